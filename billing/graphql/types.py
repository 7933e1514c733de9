"""GraphQL types of the billing app."""

import enum
from datetime import date, datetime
from decimal import Decimal

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from strawberry import auto
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from billing.models import (
    Agreement,
    BillRun,
    BillRunItem,
    CreditNote,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceTax,
)
from billing.selectors.bill_document import bill_summary
from billing.selectors.customers import customer_tariff_codes
from billing.selectors.invoices import bill_run_item_list, invoice_reference
from core.api.auth import Kind
from core.api.permissions import principal_of
from pricing.selectors import ledger as ledger_selectors


@strawberry.enum(name="InvoiceStatus")
class InvoiceStatus(enum.Enum):
    DRAFT = "DRAFT"
    ISSUED = "ISSUED"
    VOID = "VOID"


@strawberry.enum(name="InvoiceLineKind")
class InvoiceLineKind(enum.Enum):
    ENERGY = "ENERGY"
    STANDING_CHARGE = "STANDING_CHARGE"
    DEMAND = "DEMAND"
    EVENT = "EVENT"
    EXPORT_CREDIT = "EXPORT_CREDIT"
    ADJUSTMENT = "ADJUSTMENT"
    MINIMUM_CHARGE = "MINIMUM_CHARGE"
    RIDER = "RIDER"
    P2P_PURCHASE = "P2P_PURCHASE"
    P2P_SALE = "P2P_SALE"
    P2P_FEE = "P2P_FEE"


@strawberry.enum(name="BillRunStatus")
class BillRunStatus(enum.Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@strawberry.type(name="InvoiceLine", description=InvoiceLine.__doc__)
class InvoiceLineType:
    """A line of an invoice, resolved straight off the prefetched `InvoiceLine` rows: every field is a plain
    attribute of the row, so none goes through per-field Django field machinery (a page of 100 invoices has
    1,000 lines, 7,000 fields). `kind` is the row's `InvoiceLine.Kind` value, which is the name and value of
    the matching `InvoiceLineKind` member, so the enum serializes it as is."""

    band: str
    description: str
    quantity: Decimal
    unit: str = strawberry.field(description="kWh, day or kW.")
    unit_price: Decimal | None
    amount: Decimal
    kind: InvoiceLineKind


@strawberry.type(name="InvoiceTax", description=InvoiceTax.__doc__)
class InvoiceTaxType:
    name: str
    rate: Decimal = strawberry.field(description="A fraction: 0.05 is 5 %.")
    base_amount: Decimal
    amount: Decimal


# The page's lines are prefetched into a plain list attribute rather than each invoice's `lines` manager
# cache, which spares Django a queryset clone per invoice.
LINES_IN_ORDER = "lines_in_order"
TAXES_IN_ORDER = "taxes_in_order"


def _invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines in line order: from the prefetch of the whole page when there is one (the
    optimizer adds it wherever invoices are listed), else one query."""
    prefetched = getattr(invoice, LINES_IN_ORDER, None)
    if prefetched is not None:
        return prefetched
    return list(invoice.lines.order_by("id"))


@strawberry.type(name="BillSupplier")
class BillSupplierType:
    name: str
    address: str
    vat_number: str


@strawberry.type(name="BillSupplyPoint")
class BillSupplyPointType:
    mpan: str = strawberry.field(description="The meter point identifier.")
    tariff_code: str
    tariff_name: str


@strawberry.type(name="Bill", description="What the bill document carries beyond lines and taxes.")
class BillType:
    supplier: BillSupplierType
    supply_points: list[BillSupplyPointType]
    issue_date: date | None
    due_date: date | None
    payment_terms_days: int
    previous_balance: Decimal = strawberry.field(description="The balance after the previous bill.")
    payments_received: Decimal = strawberry.field(description="Payments since the previous bill.")
    other_credits: Decimal = strawberry.field(description="Credit notes and adjustments since then.")
    balance_due: Decimal = strawberry.field(description="The balance after this bill (+: the customer owes).")


def _bill(invoice: Invoice) -> BillType:
    summary = bill_summary(invoice=invoice)
    position = summary.position
    return BillType(
        supplier=BillSupplierType(
            name=summary.supplier.name,
            address=summary.supplier.address,
            vat_number=summary.supplier.vat_number,
        ),
        supply_points=[
            BillSupplyPointType(mpan=p.mpan, tariff_code=p.tariff_code, tariff_name=p.tariff_name)
            for p in summary.supply_points
        ],
        issue_date=summary.issue_date,
        due_date=summary.due_date,
        payment_terms_days=summary.payment_terms_days,
        previous_balance=position.previous_balance,
        payments_received=position.payments_received,
        other_credits=position.other_credits,
        balance_due=position.balance_due,
    )


@strawberry_django.type(Invoice, name="Invoice")
class InvoiceType:
    period_start: date
    period_end: date
    currency: auto
    # Amounts are loaded with their currency, which gives them its decimals (JPY 884, KWD 1.863).
    net_amount: Decimal = strawberry_django.field(only=["net_amount", "currency"])
    tax_amount: Decimal = strawberry_django.field(only=["tax_amount", "currency"])
    total_amount: Decimal = strawberry_django.field(only=["total_amount", "currency"])
    issued_at: datetime | None

    @strawberry_django.field(
        prefetch_related=[
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("id"), to_attr=LINES_IN_ORDER)
        ],
    )
    def lines(self, root: Invoice) -> list[InvoiceLineType]:
        return _invoice_lines(root)  # type: ignore[return-value]  # rows, resolved as InvoiceLineType

    @strawberry_django.field(
        prefetch_related=[
            Prefetch("taxes", queryset=InvoiceTax.objects.order_by("name", "rate"), to_attr=TAXES_IN_ORDER)
        ],
        description="The taxes per (name, rate); their amounts add up to taxAmount.",
    )
    def taxes(self, root: Invoice) -> list[InvoiceTaxType]:
        prefetched = getattr(root, TAXES_IN_ORDER, None)
        if prefetched is not None:
            return prefetched
        return list(root.taxes.order_by("name", "rate"))  # type: ignore[return-value]

    @strawberry_django.field(
        only=["id", "number"],
        description="The invoice number; a draft's provisional reference `DRAFT-<id>` until it is issued.",
    )
    def number(self, root: Invoice) -> str:
        return invoice_reference(root)

    @strawberry_django.field(only=["customer__account_number"], select_related=["customer"])
    def account_number(self, root: Invoice) -> str:
        return root.customer.account_number

    # The row's `Invoice.Status` value is the name and value of the matching enum member, so the enum
    # serializes it as is.
    status: InvoiceStatus = strawberry_django.field()

    @strawberry_django.field(
        only=[
            "id",
            "number",
            "customer_id",
            "period_start",
            "period_end",
            "issued_at",
            "total_amount",
            "currency",
        ],
        select_related=["customer"],
        description="Supplier, MPAN and tariff, issue and due dates, payment terms and the account position "
        "(previous balance, payments received, balance due): one invoice at a time (a few queries each).",
    )
    def bill(self, root: Invoice) -> BillType:
        return _bill(root)

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Invoice], info: Info, **kwargs) -> QuerySet[Invoice]:
        # Object-level filtering wherever invoices appear (e.g. Customer.invoices): a customer sees the
        # issued and voided invoices of their own account, never drafts or anyone else's.
        principal = principal_of(info)
        if principal.kind == Kind.USER:
            return queryset.filter(customer__user=principal.user).exclude(status=Invoice.Status.DRAFT)
        return queryset


@strawberry_django.type(Agreement, name="Agreement")
class AgreementType:
    id: auto
    valid_from: auto
    valid_to: auto

    @strawberry_django.field(only=["customer__account_number"], select_related=["customer"])
    def account_number(self, root: Agreement) -> str:
        return root.customer.account_number

    @strawberry_django.field(only=["meter_point__identifier"], select_related=["meter_point"])
    def meter_point_identifier(self, root: Agreement) -> str:
        return root.meter_point.identifier

    @strawberry_django.field(only=["import_tariff__code"], select_related=["import_tariff"])
    def tariff_code(self, root: Agreement) -> str:
        return root.import_tariff.code

    @strawberry_django.field(only=["export_tariff__code"], select_related=["export_tariff"])
    def export_tariff_code(self, root: Agreement) -> str | None:
        return root.export_tariff.code if root.export_tariff_id else None

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Agreement], info: Info, **kwargs) -> QuerySet[Agreement]:
        return queryset.order_by("valid_from", "id")


@strawberry.type(name="CustomerRate")
class CustomerRate:
    """A published dynamic unit rate (before tax) of one of the customer's tariffs, for one interval."""

    tariff_code: str
    interval_start: datetime
    interval_end: datetime
    rate_per_kwh: Decimal
    revision: int


@strawberry_django.type(Customer, name="Customer")
class CustomerType:
    account_number: auto
    name: auto
    email: auto
    agreements: list[AgreementType]
    invoices: DjangoListConnection[InvoiceType] = strawberry_django.connection()

    @strawberry_django.field(only=["id"])
    def published_rates(self, root: Customer, day: date) -> list[CustomerRate]:
        """The customer's own dynamic tariffs' published rates for a local day (latest revision), without
        the pricing breakdown, which is staff and API-client data (`publishedRates`)."""
        rates = []
        for code in customer_tariff_codes(customer=root):
            publication = ledger_selectors.publication_latest(tariff_code=code, day=day)
            if publication is None:
                continue
            rates.extend(
                CustomerRate(
                    tariff_code=code,
                    interval_start=rate.interval_start,
                    interval_end=rate.interval_end,
                    rate_per_kwh=rate.rate_per_kwh,
                    revision=publication.revision,
                )
                for rate in ledger_selectors.published_rate_list(publication=publication)
            )
        return rates


@strawberry.enum(name="BillRunItemOutcome")
class BillRunItemOutcome(enum.Enum):
    INVOICED = "INVOICED"
    HELD = "HELD"
    FAILED = "FAILED"


@strawberry_django.type(BillRunItem, name="BillRunItem")
class BillRunItemType:
    """What a bill run did with one account: invoiced it, held it (the reason says why: e.g. the meter and
    the first intervals without a reading) or failed on it (the error)."""

    reason: str

    @strawberry_django.field(only=["customer__account_number"], select_related=["customer"])
    def account_number(self, root: BillRunItem) -> str:
        return root.customer.account_number

    @strawberry_django.field(only=["outcome"])
    def outcome(self, root: BillRunItem) -> BillRunItemOutcome:
        return BillRunItemOutcome(root.outcome)


@strawberry_django.type(BillRun, name="BillRun")
class BillRunType:
    id: auto
    period_start: date
    period_end: date
    invoice_count: int
    held_count: int
    accounts_total: int = strawberry_django.field(description="Accounts the run bills (known once it runs).")
    accounts_done: int = strawberry_django.field(
        description="Accounts billed so far (invoiced, held or failed); progress = accountsDone/accountsTotal"
    )
    started_at: datetime | None
    finished_at: datetime | None
    errors: JSON

    @strawberry_django.field(only=["status"])
    def status(self, root: BillRun) -> BillRunStatus:
        return BillRunStatus(root.status)

    @strawberry_django.connection(
        DjangoListConnection[BillRunItemType],
        description="The run's accounts and what happened to each, by account number; "
        "`outcome: HELD` lists the held accounts with the reasons.",
    )
    def items(self, root: BillRun, outcome: BillRunItemOutcome | None = None) -> list[BillRunItemType]:
        return bill_run_item_list(  # type: ignore[return-value]
            bill_run_id=root.pk, outcome=outcome.value if outcome is not None else None
        )


@strawberry_django.type(CreditNote, name="CreditNote")
class CreditNoteType:
    number: auto
    reason: auto
    net_amount: Decimal = strawberry_django.field(only=["net_amount", "currency"])
    tax_amount: Decimal = strawberry_django.field(only=["tax_amount", "currency"])
    total_amount: Decimal = strawberry_django.field(only=["total_amount", "currency"])
    issued_at: datetime

    @strawberry_django.field(only=["invoice__number"], select_related=["invoice"])
    def invoice_number(self, root: CreditNote) -> str:
        return root.invoice.number
