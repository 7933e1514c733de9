"""Issuing and voiding invoices: the only changes an invoice goes through after its bill run.

Numbers come from gap-free series (`InvoiceNumberSeries`): the next value is read and advanced under a
row lock in the issuing transaction, so a rolled-back issue gives its number back and two issues never
share one. Invoices are `INV-00000001`, credit notes `CN-00000001`.

A draft has no number yet; callers refer to it by its provisional reference `DRAFT-<id>` (what the API
shows as the draft's `number`). Issuing replaces it with the real number; the reference is never stored.

Every state change writes an auditlog entry in the same transaction; its actor is the one the request
middleware put in the audit context (the person, or the API client's service account), or `actor`.
"""

from datetime import datetime
from decimal import Decimal

from auditlog.models import LogEntry
from django.db import transaction

from billing.models import CreditNote, Invoice, InvoiceNumberSeries
from billing.selectors.invoices import draft_id_of, invoice_reference
from billing.services import webhooks
from billing.services.drafts import invoice_draft_rerate
from core.errors import NOT_FOUND, DomainError

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


class InvoiceNotFound(DomainError):
    code = NOT_FOUND


class InvoiceNotDraft(DomainError):
    code = "invoice_not_draft"


class InvoiceNotIssued(DomainError):
    code = "invoice_not_issued"


class UnableToVoidInvoice(DomainError):
    code = "invoice_void_invalid"


def number_take(*, prefix: str) -> str:
    """Take the next number of the series `prefix`; call inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers are taken inside the transaction that uses them.")
    InvoiceNumberSeries.objects.get_or_create(prefix=prefix)
    series = InvoiceNumberSeries.objects.select_for_update().get(prefix=prefix)
    value = series.next_value
    series.next_value = value + 1
    series.save(update_fields=["next_value"])
    return f"{prefix}-{value:08d}"


@transaction.atomic
def invoice_issue(*, number: str, now: datetime, actor=None) -> Invoice:
    """Issue the draft `number` (its `DRAFT-<id>` reference): give it the next invoice number.

    A draft whose period's readings changed after it was computed is re-rated first (`drafts`). Issuing an
    invoice that is already issued (a replay, by its draft reference or its number) returns it unchanged."""
    draft_id = draft_id_of(number)
    invoices = Invoice.objects.select_for_update().select_related("customer")
    if draft_id is not None:
        invoice = invoices.filter(pk=draft_id).first()
    else:
        invoice = invoices.filter(number=number.strip()).first()
    if invoice is None:
        raise InvoiceNotFound(f"No invoice {number}.", field="number")
    if invoice.number is not None:
        return invoice  # a replay: the invoice as issued; nothing changes, nothing is sent again
    if invoice.status != Invoice.Status.DRAFT:
        raise InvoiceNotDraft(
            f"Invoice {invoice_reference(invoice)} is {invoice.status}; only drafts can be issued.",
            field="number",
        )
    invoice_draft_rerate(invoice=invoice, now=now, actor=actor)  # a stale draft never bills old data
    invoice.number = number_take(prefix=INVOICE_SERIES)
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_at = now
    invoice.save(update_fields=["number", "status", "issued_at"])
    _audit(
        invoice,
        {"status": [Invoice.Status.DRAFT, Invoice.Status.ISSUED], "number": [None, invoice.number]},
        actor,
    )
    webhooks.webhook_event_record(event_type="invoice.issued", payload=invoice_summary(invoice), now=now)
    return invoice


@transaction.atomic
def invoice_void(*, number: str, reason: str, now: datetime, actor=None) -> CreditNote:
    """Cancel the issued invoice `number` in full with a credit note; the invoice becomes VOID.

    A replay (the invoice is already void for the same reason) returns its credit note unchanged; another
    reason is refused (`InvoiceNotIssued`)."""
    reason = (reason or "").strip()
    if not reason:
        raise UnableToVoidInvoice("Give the reason for voiding.", field="reason")
    if len(reason) > 300:
        raise UnableToVoidInvoice("The reason is at most 300 characters.", field="reason")
    invoice = (
        Invoice.objects.select_for_update().select_related("customer").filter(number=number.strip()).first()
        if draft_id_of(number) is None
        else None
    )
    if invoice is None:
        raise InvoiceNotFound(f"No issued invoice {number}.", field="number")
    if invoice.status == Invoice.Status.VOID:
        credit_note = CreditNote.objects.filter(invoice=invoice).first()
        if credit_note is not None and credit_note.reason == reason:
            return credit_note
    if invoice.status != Invoice.Status.ISSUED:
        raise InvoiceNotIssued(
            f"Invoice {invoice.number} is {invoice.status}; only issued invoices can be voided.",
            field="number",
        )
    credit_note = CreditNote.objects.create(
        number=number_take(prefix=CREDIT_NOTE_SERIES),
        invoice=invoice,
        reason=reason,
        currency=invoice.currency,
        net_amount=invoice.net_amount,
        tax_amount=invoice.tax_amount,
        total_amount=invoice.total_amount,
        issued_at=now,
    )
    invoice.status = Invoice.Status.VOID
    invoice.save(update_fields=["status"])
    _audit(invoice, {"status": [Invoice.Status.ISSUED, Invoice.Status.VOID]}, actor)
    _audit(
        credit_note,
        {"number": [None, credit_note.number], "invoice": [None, invoice.number]},
        actor,
        action=LogEntry.Action.CREATE,
    )
    webhooks.webhook_event_record(
        event_type="invoice.voided",
        payload={**invoice_summary(invoice), "creditNoteNumber": credit_note.number, "reason": reason},
        now=now,
    )
    return credit_note


def invoice_summary(invoice: Invoice) -> dict:
    """What a webhook says about an invoice (amounts as strings, like the API)."""

    def money(value: Decimal) -> str:
        return str(value)

    return {
        "number": invoice_reference(invoice),
        "accountNumber": invoice.customer.account_number,
        "periodStart": invoice.period_start.isoformat(),
        "periodEnd": invoice.period_end.isoformat(),
        "status": invoice.status,
        "currency": invoice.currency,
        "netAmount": money(invoice.net_amount),
        "taxAmount": money(invoice.tax_amount),
        "totalAmount": money(invoice.total_amount),
        "taxes": [
            {
                "name": tax.name,
                "rate": money(tax.rate),
                "baseAmount": money(tax.base_amount),
                "amount": money(tax.amount),
            }
            for tax in invoice.taxes.order_by("name", "rate")
        ],
        "issuedAt": invoice.issued_at.isoformat() if invoice.issued_at else None,
    }


def _audit(instance, changes: dict, actor, *, action=LogEntry.Action.UPDATE) -> None:
    extra = {"actor": actor} if actor is not None else {}
    LogEntry.objects.log_create(instance, action=action, changes=changes, force_log=True, **extra)
