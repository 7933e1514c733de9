"""Re-rating drafts: a draft whose period's readings changed since it was computed is computed again.

A late or revised reading (received or revised after the draft's `readings_as_of`) leaves a draft stale.
Issuing re-rates it first, in the issuing transaction (`invoice_issue` calls `invoice_draft_rerate`): its
lines, taxes and amounts are replaced by the bill of the readings as they are now, with an audit entry
giving the old and new totals, so an issued invoice never bills old data. If the account can no longer be
billed (a gap, an open spike), issuing is refused with the reason and the draft is left as it was.
"""

from datetime import datetime

from auditlog.models import LogEntry
from django.db.models import Q

from billing import engine
from billing.models import Agreement, Invoice, InvoiceLine, InvoiceTax
from billing.selectors.invoices import invoice_reference
from billing.services.bill_loading import RunContext, accounts_bill, period_window
from billing.services.bill_writes import invoice_parts
from core.errors import DomainError
from metering.selectors.readings import readings_changed_since


class UnableToRerateDraft(DomainError, code="invoice_draft_stale"): ...


def invoice_draft_rerate(*, invoice: Invoice, now: datetime, actor=None) -> bool:
    """Re-rate the draft `invoice` (locked by the caller) if readings of its period were received or revised
    after it was computed; True if its lines or amounts changed. Raise `UnableToRerateDraft` if the
    account cannot be billed as the readings now stand."""
    if invoice.status != Invoice.Status.DRAFT or not _readings_changed(invoice):
        return False
    context = RunContext(invoice.period_start, invoice.period_end)
    outcome = accounts_bill([invoice.customer_id], context)[invoice.customer_id]
    if outcome.bill is None or outcome.skip:
        reason = outcome.held or outcome.failed or "no charges for the period any more"
        raise UnableToRerateDraft(
            f"Readings of the period of draft {invoice_reference(invoice)} changed after it was computed "
            f"({invoice.readings_as_of.isoformat()}) and the account cannot be billed as they stand: "
            f"{reason}",
            field="number",
        )
    bill = outcome.bill
    if _same(invoice, bill):
        return False
    before = str(invoice.total_amount)
    InvoiceLine.objects.filter(invoice=invoice).delete()
    InvoiceTax.objects.filter(invoice=invoice).delete()
    lines, taxes = invoice_parts([(invoice, bill)])
    InvoiceLine.objects.bulk_create(lines)
    InvoiceTax.objects.bulk_create(taxes)
    invoice.currency, invoice.net_amount, invoice.tax_amount, invoice.total_amount = (
        bill.currency,
        bill.net,
        bill.tax,
        bill.total,
    )
    invoice.readings_as_of = now
    invoice.save(update_fields=["currency", "net_amount", "tax_amount", "total_amount", "readings_as_of"])
    extra = {"actor": actor} if actor is not None else {}
    LogEntry.objects.log_create(
        invoice,
        action=LogEntry.Action.UPDATE,
        changes={"total_amount": [before, str(bill.total)], "readings_as_of": [None, now.isoformat()]},
        additional_data={"rerated": "readings of the period changed after the draft was computed"},
        force_log=True,
        **extra,
    )
    return True


def _readings_changed(invoice: Invoice) -> bool:
    window_from, window_to = period_window(invoice.period_start, invoice.period_end)
    points = Agreement.objects.filter(customer_id=invoice.customer_id, valid_from__lt=window_to).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=window_from)
    )
    return readings_changed_since(
        meter_point_ids=list(points.values_list("meter_point_id", flat=True)),
        start=window_from,
        end=window_to,
        since=invoice.readings_as_of,
    )


def _same(invoice: Invoice, bill: engine.Bill) -> bool:
    stored = sorted(
        (line.kind, line.band, line.quantity, line.amount, line.tariff_version_id, line.estimated)
        for line in invoice.lines.all()
    )
    computed = sorted(
        (line.kind, line.band[:40], line.quantity, line.amount, line.version_id, line.estimated)
        for line in bill.lines
    )
    return stored == computed and (invoice.net_amount, invoice.tax_amount) == (bill.net, bill.tax)
