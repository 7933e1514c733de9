"""An account's money: balance, statement and payments, read set-based (one query per kind of entry).

What moves the balance, each at its instant (UTC):
- INVOICE: an issued invoice (also one voided later) at `issued_at`, + its total;
- CREDIT_NOTE: the credit note of a void at its `issued_at`, − its total;
- ADJUSTMENT: a partial credit (`InvoiceAdjustment`) at its `issued_at`, − its total;
- PAYMENT: a payment at 00:00 UTC of its received date, − its amount.
Drafts never count. A positive balance is what the customer owes. Entries at the same instant are ordered
INVOICE, CREDIT_NOTE, ADJUSTMENT, PAYMENT, then by reference, so the order is stable.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate

from django.conf import settings
from django.db.models import QuerySet, Sum

from billing.currencies import money_round
from billing.models import CreditNote, Customer, Invoice, InvoiceAdjustment, Payment

INVOICE = "INVOICE"
CREDIT_NOTE = "CREDIT_NOTE"
PAYMENT = "PAYMENT"
ADJUSTMENT = "ADJUSTMENT"
_KIND_ORDER = {INVOICE: 0, CREDIT_NOTE: 1, ADJUSTMENT: 2, PAYMENT: 3}


@dataclass(frozen=True)
class StatementLine:
    at: datetime  # when it happened (UTC)
    kind: str  # "INVOICE" | "CREDIT_NOTE" | "PAYMENT" | "ADJUSTMENT"
    reference: str  # invoice/credit-note number or the payment's external reference
    description: str
    amount: Decimal  # + raises what the customer owes, - lowers it
    balance: Decimal  # running balance after this line
    currency: str


def payment_instant(received_date: date) -> datetime:
    """The instant a payment counts from: 00:00 UTC of the day it was received."""
    return datetime.combine(received_date, time(0), tzinfo=UTC)


def _first_day_from(moment: datetime) -> date:
    """The first date whose 00:00 UTC is at or after `moment`."""
    utc = moment.astimezone(UTC)
    day = utc.date()
    return day if utc == payment_instant(day) else day + timedelta(days=1)


def account_currency(customer: Customer) -> str:
    """The account's currency: its latest issued invoice's, else its latest payment's, else the setting
    BILLING_DEFAULT_CURRENCY."""
    invoiced = (
        Invoice.objects.filter(customer=customer, issued_at__isnull=False)
        .order_by("-issued_at", "-pk")
        .values_list("currency", flat=True)
        .first()
    )
    if invoiced:
        return invoiced
    paid = (
        Payment.objects.filter(customer=customer).order_by("-pk").values_list("currency", flat=True).first()
    )
    return paid or settings.BILLING_DEFAULT_CURRENCY


def _issued(customer: Customer) -> QuerySet[Invoice]:
    return Invoice.objects.filter(customer=customer, issued_at__isnull=False).exclude(
        status=Invoice.Status.DRAFT
    )


def _window(queryset: QuerySet, field: str, start: datetime | None, end: datetime | None) -> QuerySet:
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def _payments_window(customer: Customer, start: datetime | None, end: datetime | None) -> QuerySet[Payment]:
    payments = Payment.objects.filter(customer=customer)
    if start is not None:
        payments = payments.filter(received_date__gte=_first_day_from(start))
    if end is not None:
        payments = payments.filter(received_date__lt=_first_day_from(end))
    return payments


def _sum(queryset: QuerySet, field: str) -> Decimal:
    return queryset.aggregate(total=Sum(field))["total"] or Decimal(0)


def _movement(customer: Customer, start: datetime | None, end: datetime | None) -> Decimal:
    """The net change of the balance over [start, end): four aggregate queries."""
    invoiced = _sum(_window(_issued(customer), "issued_at", start, end), "total_amount")
    credited = _sum(
        _window(CreditNote.objects.filter(invoice__customer=customer), "issued_at", start, end),
        "total_amount",
    )
    adjusted = _sum(
        _window(InvoiceAdjustment.objects.filter(invoice__customer=customer), "issued_at", start, end),
        "total_amount",
    )
    paid = _sum(_payments_window(customer, start, end), "amount")
    return invoiced - credited - adjusted - paid


def account_balance(customer: Customer, *, at: datetime) -> Decimal:
    """What the customer owes just before `at` (positive) or has in credit (negative): every issued
    invoice, credit note, adjustment and payment before `at`."""
    return money_round(_movement(customer, None, at), account_currency(customer))


def payments_received(customer: Customer, *, start: datetime, end: datetime) -> Decimal:
    """The sum of the payments that count in [start, end) (received dates whose 00:00 UTC is inside)."""
    return money_round(_sum(_payments_window(customer, start, end), "amount"), account_currency(customer))


def account_statement(
    customer: Customer, *, start: datetime | None = None, end: datetime | None = None
) -> list[StatementLine]:
    """The entries of [start, end) in order with the running balance, which starts from the balance at
    `start` (0 without a start). One query per kind of entry, plus four for the opening balance."""
    currency = account_currency(customer)
    opening = _movement(customer, None, start) if start is not None else Decimal(0)
    rows: list[tuple[datetime, str, str, str, Decimal, str]] = []
    for number, issued_at, total, row_currency, period_start, period_end in _window(
        _issued(customer), "issued_at", start, end
    ).values_list("number", "issued_at", "total_amount", "currency", "period_start", "period_end"):
        rows.append(
            (
                issued_at,
                INVOICE,
                number,
                f"Invoice for {period_start:%Y-%m-%d} to {period_end - timedelta(days=1):%Y-%m-%d}",
                total,
                row_currency,
            )
        )
    for number, issued_at, total, row_currency, invoice_number, reason in _window(
        CreditNote.objects.filter(invoice__customer=customer), "issued_at", start, end
    ).values_list("number", "issued_at", "total_amount", "currency", "invoice__number", "reason"):
        rows.append(
            (
                issued_at,
                CREDIT_NOTE,
                number,
                f"Credit note voiding {invoice_number}: {reason}",
                -total,
                row_currency,
            )
        )
    for number, issued_at, total, row_currency, invoice_number, reason in _window(
        InvoiceAdjustment.objects.filter(invoice__customer=customer), "issued_at", start, end
    ).values_list("number", "issued_at", "total_amount", "currency", "invoice__number", "reason"):
        rows.append(
            (issued_at, ADJUSTMENT, number, f"Credit on {invoice_number}: {reason}", -total, row_currency)
        )
    for reference, received, amount, row_currency, method in _payments_window(
        customer, start, end
    ).values_list("external_reference", "received_date", "amount", "currency", "method"):
        label = Payment.Method(method).label
        rows.append(
            (payment_instant(received), PAYMENT, reference, f"Payment ({label})", -amount, row_currency)
        )
    rows.sort(key=lambda row: (row[0], _KIND_ORDER[row[1]], row[2]))
    balances = accumulate((row[4] for row in rows), initial=opening)
    next(balances)  # the opening balance itself
    return [
        StatementLine(
            at=at.astimezone(UTC),
            kind=kind,
            reference=reference,
            description=description,
            amount=money_round(amount, row_currency or currency),
            balance=money_round(balance, currency),
            currency=row_currency or currency,
        )
        for (at, kind, reference, description, amount, row_currency), balance in zip(
            rows, balances, strict=True
        )
    ]


def payment_list(*, customer: Customer | None = None, visible_to_user=None) -> QuerySet[Payment]:
    """Payments, newest received first; a customer asking sees only their own."""
    payments = Payment.objects.all()
    if customer is not None:
        payments = payments.filter(customer=customer)
    if visible_to_user is not None:
        payments = payments.filter(customer__user=visible_to_user)
    return payments.order_by("-received_date", "-pk")
