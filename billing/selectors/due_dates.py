"""When a bill is due: its issue date plus the payment terms (BILL_PAYMENT_TERMS_DAYS)."""

from datetime import date, timedelta

from django.conf import settings

from billing.models import Invoice


def payment_terms_days() -> int:
    return int(settings.BILL_PAYMENT_TERMS_DAYS)


def invoice_due_date(invoice: Invoice) -> date | None:
    """The issue date (UTC) plus the payment terms; None for a draft."""
    if invoice.issued_at is None:
        return None
    return invoice.issued_at.date() + timedelta(days=payment_terms_days())
