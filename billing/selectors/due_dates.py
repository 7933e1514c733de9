"""When a bill is due: the due date set at issue (the agreement's payment terms, else
BILLING_PAYMENT_TERMS_DAYS), and the terms that date stands for."""

from datetime import date, timedelta

from django.conf import settings

from billing.models import Invoice


def invoice_due_date(invoice: Invoice) -> date | None:
    """The due date stored when the invoice was issued; for an invoice issued before due dates were
    stored, the issue date (UTC) plus the default terms; None for a draft."""
    if invoice.due_date is not None:
        return invoice.due_date
    if invoice.issued_at is None:
        return None
    return invoice.issued_at.date() + timedelta(days=int(settings.BILLING_PAYMENT_TERMS_DAYS))


def payment_terms_days(invoice: Invoice) -> int:
    """The days from issue to due date of an issued invoice; the default terms for a draft."""
    due = invoice_due_date(invoice)
    if due is None or invoice.issued_at is None:
        return int(settings.BILLING_PAYMENT_TERMS_DAYS)
    return (due - invoice.issued_at.date()).days
