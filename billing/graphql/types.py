"""GraphQL types of the billing app."""

import dataclasses
import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
import strawberry_django
from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from strawberry import auto
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from billing import comparison, document_links
from billing.currencies import quantum
from billing.models import (
    Agreement,
    BillRun,
    BillRunItem,
    CreditNote,
    Customer,
    Invoice,
    InvoiceAdjustment,
    InvoiceLine,
    InvoiceTax,
    Payment,
    TariffComparisonRun,
)
from billing.selectors import statements as statement_selectors
from billing.selectors.bill_document import bill_summary
from billing.selectors.customers import customer_tariff_codes
from billing.selectors.invoices import bill_run_item_list, invoice_reference, invoice_remaining_total
from billing.services.comparison import ComparisonResult
from core.api.auth import Kind
from core.api.permissions import principal_of
from pricing.selectors import ledger as ledger_selectors


@strawberry.enum(name="InvoiceStatus")
class InvoiceStatus(enum.Enum):
    DRAFT = "DRAFT"
    ISSUED = "ISSUED"
    VOID = "VOID"


def _choices_enum(choices: type[enum.Enum], name: str) -> type[enum.Enum]:
    """The GraphQL enum of a model's stored choices (value == name), so that the two cannot drift apart."""
    return strawberry.enum(enum.Enum(name, [(c.name, c.value) for c in choices]), name=name)


InvoiceLineKind = _choices_enum(InvoiceLine.Kind, "InvoiceLineKind")


PaymentMethod = _choices_enum(Payment.Method, "PaymentMethod")


@strawberry.enum(name="StatementLineKind")
class StatementLineKind(enum.Enum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"
    ADJUSTMENT = "ADJUSTMENT"
    PAYMENT = "PAYMENT"


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
    estimated: bool = strawberry.field(
        description="Whether any reading in the line's period was estimated or substituted (not actual)."
    )


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


ADJUSTMENTS_IN_ORDER = "adjustments_in_order"


def _invoice_adjustments(invoice: Invoice) -> list[InvoiceAdjustment]:
    prefetched = getattr(invoice, ADJUSTMENTS_IN_ORDER, None)
    if prefetched is not None:
        return prefetched
    return list(invoice.adjustments.order_by("issued_at", "pk"))


def _invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines in line order: from the prefetch of the whole page when there is one (the
    optimizer adds it wherever invoices are listed), else one query."""
    prefetched = getattr(invoice, LINES_IN_ORDER, None)
    if prefetched is not None:
        return prefetched
    return list(invoice.lines.order_by("id"))


@strawberry_django.type(InvoiceAdjustment, name="InvoiceAdjustment")
class InvoiceAdjustmentType:
    """A partial credit note of an issued invoice (numbered from the credit note series); the invoice stays
    ISSUED. `remainingAmount` is what can still be credited."""

    number: auto
    reason: auto
    currency: str
    net_amount: Decimal = strawberry_django.field(only=["net_amount", "currency"])
    tax_amount: Decimal = strawberry_django.field(only=["tax_amount", "currency"])
    total_amount: Decimal = strawberry_django.field(only=["total_amount", "currency"])
    issued_at: datetime

    @strawberry_django.field(only=["invoice__number"], select_related=["invoice"])
    def invoice_number(self, root: InvoiceAdjustment) -> str:
        return root.invoice.number or ""

    @strawberry_django.field(select_related=["invoice"])
    def remaining_amount(self, root: InvoiceAdjustment) -> Decimal:
        return invoice_remaining_total(root.invoice)


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
    due_date: date | None = strawberry_django.field(description="Set at issue: issue date + payment terms.")

    @strawberry_django.field(
        prefetch_related=[
            Prefetch(
                "adjustments",
                queryset=InvoiceAdjustment.objects.order_by("issued_at", "pk"),
                to_attr=ADJUSTMENTS_IN_ORDER,
            )
        ],
        description="Partial credit notes of the invoice (`invoiceAdjust`), oldest first.",
    )
    def adjustments(self, root: Invoice) -> list[InvoiceAdjustmentType]:
        return _invoice_adjustments(root)  # type: ignore[return-value]

    @strawberry_django.field(
        only=["status", "total_amount", "currency"],
        prefetch_related=[
            Prefetch(
                "adjustments",
                queryset=InvoiceAdjustment.objects.order_by("issued_at", "pk"),
                to_attr=ADJUSTMENTS_IN_ORDER,
            )
        ],
        description="What can still be credited: the total less its adjustments (0 once void).",
    )
    def remaining_amount(self, root: Invoice) -> Decimal:
        if root.status == Invoice.Status.VOID:
            return Decimal(0).quantize(quantum(root.currency))
        credited = sum((a.total_amount for a in _invoice_adjustments(root)), Decimal(0))
        return (root.total_amount - credited).quantize(quantum(root.currency))

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
        only=["id"],
        description="A link to the invoice's PDF that needs no other credentials and expires "
        "(INVOICE_PDF_URL_MAX_AGE, 15 minutes by default); ask again for a fresh one.",
    )
    def pdf_url(self, root: Invoice, info: Info) -> str:
        token = document_links.invoice_pdf_token(invoice_id=root.pk)
        path = reverse("billing-invoice-pdf-signed", args=[token])
        return info.context.request.build_absolute_uri(path)

    @strawberry_django.field(
        description="Seconds pdfUrl stays valid from when it was asked for.",
    )
    def pdf_url_max_age(self) -> int:
        return int(settings.INVOICE_PDF_URL_MAX_AGE)

    @strawberry_django.field(
        select_related=["replaces", "replaces__customer"],
        description="The invoice this re-bill replaces (voided with a credit note), if it is a re-bill.",
    )
    def replaces(self, root: Invoice, info: Info) -> "InvoiceType | None":
        return _visible(root.replaces, info)

    @strawberry_django.field(
        select_related=["replaced_by", "replaced_by__customer"],
        description="The re-bill that replaces this invoice, if it was re-billed.",
    )
    def replaced_by(self, root: Invoice, info: Info) -> "InvoiceType | None":
        try:
            replacement = root.replaced_by
        except Invoice.DoesNotExist:
            return None
        return _visible(replacement, info)

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


def _visible(invoice: Invoice | None, info: Info) -> Any:
    """The linked invoice unless the caller is a customer and it is a draft (customers never see drafts)."""
    if invoice is None:
        return None
    if invoice.status == Invoice.Status.DRAFT and principal_of(info).kind == Kind.USER:
        return None
    return invoice


@strawberry_django.type(Agreement, name="Agreement")
class AgreementType:
    id: auto
    valid_from: auto
    valid_to: auto
    payment_terms_days: int | None = strawberry_django.field(
        description="Days from issue to the due date; null: the supplier's default terms."
    )
    minimum_charge_per_month: Decimal | None = strawberry_django.field(
        description="The least the agreement bills per month before tax, prorated by day."
    )

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


@strawberry_django.type(Payment, name="Payment")
class PaymentType:
    external_reference: str
    amount: Decimal = strawberry_django.field(only=["amount", "currency"])
    currency: str
    received_date: date
    created_at: datetime = strawberry_django.field(description="When it was recorded.")

    @strawberry_django.field(only=["method"])
    def method(self, root: Payment) -> PaymentMethod:
        return PaymentMethod(root.method)

    @strawberry_django.field(only=["customer__account_number"], select_related=["customer"])
    def account_number(self, root: Payment) -> str:
        return root.customer.account_number

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Payment], info: Info, **kwargs) -> QuerySet[Payment]:
        principal = principal_of(info)
        if principal.kind == Kind.USER:
            queryset = queryset.filter(customer__user=principal.user)
        return queryset.order_by("-received_date", "-pk")


@strawberry.type(name="StatementLine")
class StatementLineType:
    """An entry of an account statement: `amount` > 0 raises what the customer owes, < 0 lowers it;
    `balance` is the running balance after it (positive: the customer owes)."""

    at: datetime
    kind: StatementLineKind
    reference: str
    description: str
    amount: Decimal
    balance: Decimal
    currency: str


@strawberry_django.type(Customer, name="Customer")
class CustomerType:
    account_number: auto
    name: auto
    email: auto
    agreements: list[AgreementType]
    invoices: DjangoListConnection[InvoiceType] = strawberry_django.connection()
    payments: DjangoListConnection[PaymentType] = strawberry_django.connection(
        description="Payments received, newest first."
    )

    @strawberry_django.field(only=["id"])
    def currency(self, root: Customer) -> str:
        """The account's currency (its invoices' and payments')."""
        return statement_selectors.account_currency(root)

    @strawberry_django.field(only=["id"])
    def balance(self, root: Customer, at: datetime | None = None) -> Decimal:
        """What the customer owes (positive) or has in credit (negative) just before `at` (default now):
        issued invoices less credit notes, adjustments and payments."""
        return statement_selectors.account_balance(root, at=at or timezone.now())

    @strawberry_django.field(only=["id"])
    def statement(
        self, root: Customer, period_from: datetime | None = None, period_to: datetime | None = None
    ) -> list[StatementLineType]:
        """Invoices, credit notes, adjustments and payments in [periodFrom, periodTo), in order, with the
        running balance (starting from the balance at periodFrom)."""
        return statement_selectors.account_statement(  # type: ignore[return-value]
            root, start=period_from, end=period_to
        )

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


# The fields of the comparison maths' `TariffSummary`, so that the API and the maths cannot drift apart.
SummaryType = strawberry.type(
    type(
        "SummaryType",
        (),
        {
            "__annotations__": {f.name: f.type for f in dataclasses.fields(comparison.TariffSummary)},
            "tariff_code": strawberry.field(description='"current" for the accounts\' own agreements.'),
        },
    ),
    name="TariffComparisonSummary",
)


@strawberry.type(name="TariffComparisonBill")
class ComparisonBillType:
    account_number: str
    tariff_code: str
    total: Decimal | None = strawberry.field(description="Null: the account cannot be billed on it (held).")
    held_reason: str | None


@strawberry.type(name="TariffComparisonProsumer")
class ProsumerType:
    """An account with a PV generation meter: its measured energy over the period."""

    account_number: str
    consumed_kwh: Decimal = strawberry.field(description="Grid import + own PV used at home.")
    generated_kwh: Decimal
    self_consumed_kwh: Decimal
    self_sufficiency: float | None
    self_consumption: float | None


@strawberry.type(name="TariffComparison")
class ComparisonType:
    period_start: date
    period_end: date
    scenario: str
    summaries: list[SummaryType]
    bills: list[ComparisonBillType]
    prosumers: list[ProsumerType] = strawberry.field(
        default_factory=list, description="Accounts with a PV generation meter (measured self-sufficiency)."
    )


@strawberry.type(name="TariffComparisonRun")
class RunType:
    id: strawberry.ID
    status: str
    progress_done: int
    progress_total: int
    error: str


def tariff_comparison_type(result: ComparisonResult) -> ComparisonType:
    return ComparisonType(
        period_start=result.period_start,
        period_end=result.period_end,
        scenario=result.scenario,
        summaries=[SummaryType(**vars(s)) for s in result.summaries],
        bills=[
            ComparisonBillType(
                account_number=account,
                tariff_code=code,
                total=total,
                held_reason=result.held.get(account, {}).get(code),
            )
            for account, bills in result.bills.items()
            for code, total in bills.items()
        ],
        prosumers=[
            ProsumerType(
                account_number=account,
                consumed_kwh=Decimal(row["consumed_kwh"]),
                generated_kwh=Decimal(row["generated_kwh"]),
                self_consumed_kwh=Decimal(row["self_consumed_kwh"]),
                self_sufficiency=row["self_sufficiency"],
                self_consumption=row["self_consumption"],
            )
            for account, row in sorted(result.prosumers.items())
        ],
    )


def tariff_comparison_run_type(run: TariffComparisonRun) -> RunType:
    return RunType(
        id=strawberry.ID(str(run.pk)),
        status=run.status,
        progress_done=run.progress_done,
        progress_total=run.progress_total,
        error=run.error,
    )
