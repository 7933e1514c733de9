"""Writing a bill run's results in bulk: each chunk's invoices, lines, taxes, items and audit entries in
one transaction, and the invoices of a re-bill.

One live invoice per account and period is the database's rule: a concurrent run that got there first
makes the chunk's insert fail, and the chunk is written again without those accounts.
"""

import logging
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from billing import engine
from billing.models import BillRun, BillRunItem, Customer, Invoice, InvoiceLine, InvoiceTax
from billing.selectors.invoices import invoice_reference
from billing.services import webhooks
from billing.services.bill_loading import AccountOutcome
from core import audit

log = logging.getLogger(__name__)

_WRITE_ATTEMPTS = 5


def chunk_write(
    run: BillRun, chunk: list[int], outcomes: dict[int, AccountOutcome], *, now: datetime
) -> None:
    """Write the chunk's invoices, lines and items in one transaction.

    Accounts that meanwhile got an item in this run, or a live invoice for the period (another run), are
    left out; a unique violation from a concurrent writer means exactly that, so the chunk is re-read and
    written again.
    """
    skipped_before: frozenset[int] | None = None
    for attempt in range(_WRITE_ATTEMPTS):
        skipped: list[frozenset[int]] = []
        try:
            with transaction.atomic():
                _write_chunk_once(run, chunk, outcomes, now=now, skipped=skipped)
            return
        except IntegrityError:
            # Retry only if the rows in the way are new (another writer's); otherwise it is our own error.
            if attempt == _WRITE_ATTEMPTS - 1 or (skipped and skipped[0] == skipped_before):
                raise
            skipped_before = skipped[0] if skipped else None
            log.info("bill run %s: a concurrent writer invoiced part of a chunk; writing it again", run.pk)


def _write_chunk_once(
    run: BillRun, chunk: list[int], outcomes: dict[int, AccountOutcome], *, now: datetime, skipped: list
) -> None:
    done = set(
        BillRunItem.objects.filter(bill_run=run, customer_id__in=chunk).values_list("customer_id", flat=True)
    )
    invoiced: dict[int, int | None] = {}
    overlapping: dict[int, str] = {}
    live = (
        Invoice.objects.filter(
            customer_id__in=chunk, period_start__lt=run.period_end, period_end__gt=run.period_start
        )
        .exclude(status=Invoice.Status.VOID)
        .order_by("period_start", "pk")
    )
    for invoice in live:
        if (invoice.period_start, invoice.period_end) == (run.period_start, run.period_end):
            invoiced[invoice.customer_id] = invoice.bill_run_id
        else:
            overlapping.setdefault(invoice.customer_id, _overlap_reason(invoice))
    skipped.append(frozenset(done) | frozenset(invoiced) | frozenset(overlapping))
    items: list[BillRunItem] = []
    invoices: list[Invoice] = []
    bills: list[engine.Bill] = []
    for customer_id in chunk:
        if customer_id in done:
            continue
        outcome = outcomes[customer_id]
        if outcome.skip:
            continue
        if customer_id in invoiced:
            other = invoiced[customer_id]
            reason = "already invoiced for this period" + (f" by bill run {other}" if other else "")
            items.append(_item(run, customer_id, BillRunItem.Outcome.INVOICED, reason))
        elif customer_id in overlapping:
            items.append(_item(run, customer_id, BillRunItem.Outcome.HELD, overlapping[customer_id]))
        elif outcome.bill is not None:
            invoices.append(
                invoice_build(customer_id, outcome.bill, run.period_start, run.period_end, run, now)
            )
            bills.append(outcome.bill)
            items.append(_item(run, customer_id, BillRunItem.Outcome.INVOICED, ""))
        elif outcome.held:
            items.append(_item(run, customer_id, BillRunItem.Outcome.HELD, outcome.held))
        else:
            items.append(_item(run, customer_id, BillRunItem.Outcome.FAILED, outcome.failed))
    invoices_save(invoices, bills, source={"bill_run": run.pk, "idempotency_key": run.idempotency_key})
    BillRunItem.objects.bulk_create(items)
    errors = [
        {"account_id": item.customer_id, "message": item.reason}
        for item in items
        if item.outcome == BillRunItem.Outcome.FAILED
    ]
    update = {
        "accounts_done": F("accounts_done") + len(items),
        "invoice_count": F("invoice_count") + len(invoices),
        "held_count": F("held_count") + sum(1 for item in items if item.outcome == BillRunItem.Outcome.HELD),
    }
    if errors:
        run.refresh_from_db(fields=["errors"])
        update["errors"] = [*run.errors, *errors]
    BillRun.objects.filter(pk=run.pk).update(**update)


def _overlap_reason(invoice: Invoice) -> str:
    """Why an account is held: a live invoice already covers part of the period (no day is billed twice)."""
    return (
        f"the period overlaps invoice {invoice_reference(invoice)} ({invoice.status.lower()}, "
        f"{invoice.period_start}–{invoice.period_end}); void it before billing these days again"
    )


def _item(run: BillRun, customer_id: int, outcome: str, reason: str) -> BillRunItem:
    return BillRunItem(bill_run=run, customer_id=customer_id, outcome=outcome, reason=reason[:300])


def invoice_build(
    customer_id: int,
    bill: engine.Bill,
    period_start: date,
    period_end: date,
    run: BillRun | None,
    now: datetime,
    replaces: Invoice | None = None,
) -> Invoice:
    return Invoice(
        customer_id=customer_id,
        bill_run=run,
        period_start=period_start,
        period_end=period_end,
        status=Invoice.Status.DRAFT,
        currency=bill.currency,
        net_amount=bill.net,
        tax_amount=bill.tax,
        total_amount=bill.total,
        readings_as_of=now,
        replaces=replaces,
    )


def invoices_save(invoices: list[Invoice], bills: list[engine.Bill], *, source: dict) -> None:
    """Insert the invoices (ids come back from the insert), then all their lines and taxes in one bulk
    insert each, and one audit entry per invoice: bulk inserts bypass django-auditlog, so the entries are
    written here, in the same transaction (`source` says what created the invoices)."""
    if not invoices:
        return
    Invoice.objects.bulk_create(invoices)
    pairs = list(zip(invoices, bills, strict=True))
    lines, taxes = invoice_parts(pairs)
    InvoiceLine.objects.bulk_create(lines)
    InvoiceTax.objects.bulk_create(taxes)
    audit.log_entries_create(
        [
            (
                invoice,
                {
                    "status": [None, invoice.status],
                    "period": [None, f"{invoice.period_start}/{invoice.period_end}"],
                    "net_amount": [None, str(invoice.net_amount)],
                    "tax_amount": [None, str(invoice.tax_amount)],
                    "total_amount": [None, str(invoice.total_amount)],
                    "lines": [None, str(len(bill.lines))],
                },
            )
            for invoice, bill in pairs
        ],
        additional_data=source,
    )
    if not webhooks.webhook_url():
        return
    accounts = dict(
        Customer.objects.filter(pk__in={i.customer_id for i in invoices}).values_list("pk", "account_number")
    )
    webhooks.webhook_events_record(
        events=[
            ("invoice.created", invoice_created_payload(invoice, bill, accounts)) for invoice, bill in pairs
        ],
        now=invoices[0].readings_as_of,
    )


def invoice_created_payload(invoice: Invoice, bill: engine.Bill, accounts: dict[int, str]) -> dict:
    """The `invoice.created` event of a new draft, from the bill (no query per invoice)."""
    return {
        "number": invoice_reference(invoice),
        "accountNumber": accounts[invoice.customer_id],
        "periodStart": invoice.period_start.isoformat(),
        "periodEnd": invoice.period_end.isoformat(),
        "status": invoice.status,
        "currency": invoice.currency,
        "netAmount": str(invoice.net_amount),
        "taxAmount": str(invoice.tax_amount),
        "totalAmount": str(invoice.total_amount),
        "taxes": [
            {"name": t.name, "rate": str(t.rate), "baseAmount": str(t.base), "amount": str(t.amount)}
            for t in sorted(bill.taxes, key=lambda t: (t.name, t.rate))
        ],
        "billRunId": invoice.bill_run_id,
        "replaces": invoice.replaces.number if invoice.replaces is not None else None,
    }


def invoice_parts(pairs: list[tuple[Invoice, engine.Bill]]) -> tuple[list[InvoiceLine], list[InvoiceTax]]:
    """The line and tax rows of saved invoices from their bills."""
    lines = [
        InvoiceLine(
            invoice_id=invoice.pk,
            kind=line.kind,
            band=line.band[:40],
            description=line.description[:200],
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            currency=bill.currency,
            amount=line.amount,
            tariff_version_id=line.version_id,
            estimated=line.estimated,
        )
        for invoice, bill in pairs
        for line in bill.lines
    ]
    taxes = [
        InvoiceTax(
            invoice_id=invoice.pk,
            name=tax.name,
            rate=tax.rate,
            currency=bill.currency,
            base_amount=tax.base,
            amount=tax.amount,
        )
        for invoice, bill in pairs
        for tax in bill.taxes
    ]
    return lines, taxes
