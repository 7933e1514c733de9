"""Re-billing: credit and re-bill issued invoices whose meters got readings revised after they were billed."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction

from billing.models import Agreement, Invoice
from billing.services.bill_loading import RunContext, accounts_bill, period_window
from billing.services.bill_writes import invoice_build, invoices_save
from billing.services.invoices import invoice_void
from metering.selectors.readings import reading_revisions


@dataclass
class RebillReport:
    credited: list[str]
    replaced: dict[str, int]
    held: dict[str, str]


def bill_rebill_revised(*, now: datetime, invoice_numbers: list[str] | None = None) -> RebillReport:
    """Credit and re-bill each issued invoice whose meters got readings revised after it was billed.

    For each such invoice (optionally only `invoice_numbers`), in one transaction: the invoices service
    voids it with a credit note, and a corrected DRAFT invoice replacing it is written from the readings
    as they are now. An account that can no longer be billed (a gap) is left alone and reported.
    """
    report = RebillReport(credited=[], replaced={}, held={})
    for invoice in _revised_invoices(invoice_numbers):
        context = RunContext(invoice.period_start, invoice.period_end)
        outcome = accounts_bill([invoice.customer_id], context)[invoice.customer_id]
        if outcome.bill is None:
            report.held[invoice.number] = outcome.held or outcome.failed
            continue
        with transaction.atomic():
            invoice_void(
                number=invoice.number,
                reason="Re-billed: meter readings were revised after this invoice was billed.",
                now=now,
            )
            corrected = invoice_build(
                invoice.customer_id,
                outcome.bill,
                invoice.period_start,
                invoice.period_end,
                None,
                now,
                replaces=invoice,
            )
            invoices_save([corrected], [outcome.bill], source={"rebill_of": invoice.number})
        report.credited.append(invoice.number)
        report.replaced[invoice.number] = corrected.pk
    return report


def _revised_invoices(invoice_numbers: list[str] | None) -> list[Invoice]:
    """Issued invoices with a reading of one of their agreements' meters, in their period, revised after
    `readings_as_of` (one query)."""
    invoices = Invoice.objects.filter(status=Invoice.Status.ISSUED)
    if invoice_numbers:
        invoices = invoices.filter(number__in=invoice_numbers)
    candidates = list(invoices.order_by("pk"))
    if not candidates:
        return []
    first = min(i.period_start for i in candidates)
    last = max(i.period_end for i in candidates)
    window_from, window_to = period_window(first, last)
    customers_of_point: dict[int, set[int]] = defaultdict(set)
    for customer_id, point_id in Agreement.objects.filter(
        customer_id__in={i.customer_id for i in candidates}
    ).values_list("customer_id", "meter_point_id"):
        customers_of_point[point_id].add(customer_id)
    revised = reading_revisions(meter_point_ids=customers_of_point, start=window_from, end=window_to)
    by_customer: dict[int, list[tuple[str, datetime, datetime]]] = defaultdict(list)
    for point_id, zone, start, revised_at in revised:
        for customer_id in customers_of_point[point_id]:
            by_customer[customer_id].append((zone, start, revised_at))
    result = []
    for invoice in candidates:
        for zone, moment, revised_at in by_customer.get(invoice.customer_id, ()):
            tz = ZoneInfo(zone)
            start = datetime.combine(invoice.period_start, time(0), tzinfo=tz)
            end = datetime.combine(invoice.period_end, time(0), tzinfo=tz)
            if start <= moment < end and revised_at > invoice.readings_as_of:
                result.append(invoice)
                break
    return result


__all__ = ["RebillReport", "bill_rebill_revised"]
