"""An account's statement and balance from its invoices and credit notes (payments and adjustments are
recorded by the billing system; until they are stored here, none are listed).

Amounts: + raises what the customer owes (an issued invoice), - lowers it (a credit note, a payment).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing.models import CreditNote, Customer, Invoice


@dataclass(frozen=True)
class StatementLine:
    at: datetime  # when it happened (UTC)
    kind: str  # "INVOICE" | "CREDIT_NOTE" | "PAYMENT" | "ADJUSTMENT"
    reference: str  # invoice/credit-note number or the payment's external reference
    description: str
    amount: Decimal  # + raises what the customer owes, - lowers it
    balance: Decimal  # running balance after this line
    currency: str


def account_statement(
    customer: Customer, *, start: datetime | None = None, end: datetime | None = None
) -> list[StatementLine]:
    """The account's invoices (when issued) and credit notes in time order over [start, end); the running
    balance includes everything before `start`."""
    events: list[tuple[datetime, int, str, str, str, Decimal, str]] = []
    invoices = Invoice.objects.filter(customer=customer, issued_at__isnull=False).exclude(
        status=Invoice.Status.DRAFT
    )
    for invoice in invoices.order_by("issued_at", "pk"):
        assert invoice.issued_at is not None
        events.append(
            (
                invoice.issued_at,
                invoice.pk,
                "INVOICE",
                invoice.number or "",
                f"Bill for {invoice.period_start:%d %b %Y} to {invoice.period_last_day:%d %b %Y}",
                invoice.total_amount,
                invoice.currency,
            )
        )
    for note in CreditNote.objects.filter(invoice__customer=customer).select_related("invoice"):
        events.append(
            (
                note.issued_at,
                note.pk,
                "CREDIT_NOTE",
                note.number,
                f"Credit for bill {note.invoice.number}: {note.reason}",
                -note.total_amount,
                note.currency or note.invoice.currency,
            )
        )
    events.sort(key=lambda event: (event[0], event[2] != "INVOICE", event[1]))
    balance = Decimal("0")
    lines = []
    for at, _pk, kind, reference, description, amount, currency in events:
        if end is not None and at >= end:
            break
        balance += amount
        if start is not None and at < start:
            continue
        lines.append(StatementLine(at, kind, reference, description, amount, balance, currency))
    return lines


def account_balance(customer: Customer, *, at: datetime) -> Decimal:
    """What the customer owes just before `at` (positive = customer owes)."""
    lines = account_statement(customer, end=at)
    return lines[-1].balance if lines else Decimal("0.00")


def payments_received(customer: Customer, *, start: datetime, end: datetime) -> Decimal:
    """Payments received in [start, end)."""
    return sum(
        (
            -line.amount
            for line in account_statement(customer, start=start, end=end)
            if line.kind == "PAYMENT"
        ),
        Decimal("0.00"),
    )
