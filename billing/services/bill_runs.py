"""Bill runs: invoices (DRAFT) for every account of a period, computed set-based, chunk by chunk.

A run is started once per idempotency key and executed by a Celery task. Accounts are billed in chunks;
each chunk loads its agreements, meters and readings in a constant number of queries (readings: one query
for all meters of the chunk), prices them with `billing.engine` and writes its invoices, lines and bill
run items in one transaction. A worker killed mid-run therefore leaves whole accounts or nothing, and
executing the run again skips the accounts that already have an item (or a live invoice for the period).
One live invoice per account and period is the database's rule: a concurrent run that got there first
makes the chunk's insert fail, and the chunk is written again without those accounts.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q

from billing import commercial, engine
from billing.models import Agreement, BillRun, BillRunItem, Customer, Invoice, InvoiceLine, InvoiceTax
from config import audit
from config.api.errors import DomainError
from metering.models import Meter, Quality, Reading
from metering.selectors import import_load_arrays, reading_arrays
from pricing.documents import DynamicEnergy, IndexedEnergy, parse_tariff_document
from pricing.models import Tariff, TariffVersion
from pricing.selectors import tariffs as tariff_selectors

log = logging.getLogger(__name__)

CHUNK_SIZE = 500
MAX_PERIOD_DAYS = 400
# Local dates become instants in the tariff's zone; loading a day either side covers every zone.
_MARGIN = timedelta(days=1)
_WRITE_ATTEMPTS = 5


class UnableToStartBillRun(DomainError):
    code = "bill_run_invalid"


class BillRunKeyReused(DomainError):
    code = "idempotency_key_reused"


class BillRunNotFound(DomainError):
    code = "not_found"


def bill_run_start(
    *,
    period_start: date,
    period_end: date,
    idempotency_key: str,
    account_numbers: list[str] | None = None,
    now: datetime,
) -> BillRun:
    """Create the run (PENDING) and enqueue its execution once the transaction commits.

    The same key returns the same run and creates nothing; the key with another period or other accounts
    is refused.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 128:
        raise UnableToStartBillRun("The idempotency key is 1-128 characters.", field="idempotency_key")
    if period_end <= period_start:
        raise UnableToStartBillRun("periodEnd must be after periodStart.", field="period_end")
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise UnableToStartBillRun(f"A bill run covers at most {MAX_PERIOD_DAYS} days.", field="period_end")
    accounts = sorted({a.strip() for a in account_numbers}) if account_numbers else None
    existing = BillRun.objects.filter(idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                run = BillRun.objects.create(
                    idempotency_key=key,
                    period_start=period_start,
                    period_end=period_end,
                    account_numbers=accounts,
                    status=BillRun.Status.PENDING,
                )
                transaction.on_commit(lambda: _enqueue(run.pk))
                return run
        except IntegrityError:
            existing = BillRun.objects.filter(idempotency_key=key).first()
            if existing is None:
                raise
    if (existing.period_start, existing.period_end, existing.account_numbers) != (
        period_start,
        period_end,
        accounts,
    ):
        raise BillRunKeyReused(
            f"The idempotency key {key!r} was used for another bill run "
            f"({existing.period_start}–{existing.period_end}).",
            field="idempotency_key",
        )
    return existing


def _enqueue(bill_run_id: int) -> None:
    from billing.tasks import bill_run_execute_task  # the adapter imports this module

    bill_run_execute_task.delay(bill_run_id=bill_run_id)


def bill_run_execute(*, bill_run_id: int, now: datetime, chunk_size: int | None = None) -> BillRun:
    """Bill the run's accounts that are not billed yet, chunk by chunk; finish COMPLETED or FAILED.

    Safe to call again (a retried task, a rerun after a crash): a completed run is returned as it is,
    otherwise accounts with an item in this run are skipped.
    """
    if chunk_size is None:
        chunk_size = getattr(settings, "BILL_RUN_CHUNK_SIZE", CHUNK_SIZE)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    run = BillRun.objects.filter(pk=bill_run_id).first()
    if run is None:
        raise BillRunNotFound(f"No bill run {bill_run_id}.", field="bill_run_id")
    if run.status == BillRun.Status.COMPLETED:
        return run
    customer_ids, done = _run_customers(run)
    BillRun.objects.filter(pk=run.pk).update(
        status=BillRun.Status.RUNNING,
        started_at=run.started_at or now,
        accounts_total=len(customer_ids) + done,
    )
    context = _Context(run.period_start, run.period_end)
    try:
        for offset in range(0, len(customer_ids), chunk_size):
            chunk = customer_ids[offset : offset + chunk_size]
            outcomes = _bill_customers(chunk, context)
            _write_chunk(run, chunk, outcomes, now=now)
    except Exception as exc:
        log.exception("bill run %s failed", run.pk)
        BillRun.objects.filter(pk=run.pk).update(
            status=BillRun.Status.FAILED,
            finished_at=now,
            errors=[*run.errors, {"error": type(exc).__name__, "message": str(exc)[:500]}],
        )
        raise
    return _finish(run, now=now)


def _run_customers(run: BillRun) -> tuple[list[int], int]:
    """Ids of the accounts with an agreement overlapping the period that this run has not billed yet,
    and how many it has billed."""
    window_from, window_to = _window(run.period_start, run.period_end)
    customers = Customer.objects.filter(
        Q(agreements__valid_to__isnull=True) | Q(agreements__valid_to__gt=window_from),
        agreements__valid_from__lt=window_to,
    )
    if run.account_numbers:
        customers = customers.filter(account_number__in=run.account_numbers)
    done = set(BillRunItem.objects.filter(bill_run=run).values_list("customer_id", flat=True))
    pending = [pk for pk in sorted(set(customers.values_list("pk", flat=True))) if pk not in done]
    return pending, len(done)


def _window(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(period_start, time(0), tzinfo=UTC) - _MARGIN,
        datetime.combine(period_end, time(0), tzinfo=UTC) + _MARGIN,
    )


def _finish(run: BillRun, *, now: datetime) -> BillRun:
    """Counts from the items (authoritative, whatever reruns happened); FAILED if an account failed."""
    counts = dict(
        BillRunItem.objects.filter(bill_run=run)
        .values("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    failed = counts.get(BillRunItem.Outcome.FAILED, 0)
    BillRun.objects.filter(pk=run.pk).update(
        status=BillRun.Status.FAILED if failed else BillRun.Status.COMPLETED,
        accounts_done=sum(counts.values()),
        invoice_count=Invoice.objects.filter(bill_run=run).count(),
        held_count=counts.get(BillRunItem.Outcome.HELD, 0),
        finished_at=now,
    )
    run.refresh_from_db()
    return run


# --- loading and computing ----------------------------------------------------------------------------


class _Context:
    """What a run loads once and shares between chunks: tariff versions with their rate series."""

    def __init__(self, period_start: date, period_end: date) -> None:
        self.period_start = period_start
        self.period_end = period_end
        self.window_from, self.window_to = _window(period_start, period_end)
        self.versions: dict[int, list[engine.PricedVersion]] = {}
        self.loads: dict[str | None, commercial.LoadSeries] = {}

    def readings_from(self) -> datetime:
        """Where readings are loaded from: the window, or earlier by the longest ratchet's months."""
        months = max(
            (
                v.document.demand_ratchet.months
                for versions in self.versions.values()
                for v in versions
                if v.document.demand_ratchet
            ),
            default=0,
        )
        if not months:
            return self.window_from
        first = commercial.months_before(self.period_start, months)
        return datetime.combine(first, time(0), tzinfo=UTC) - _MARGIN

    def load_for(self, basis: str, feeder_code: str) -> commercial.LoadSeries | None:
        """The summed import of a feeder ("feeder") or of every meter point ("system"), once per run, when
        a loaded tariff charges coincident peak demand on that basis."""
        wanted = any(
            v.document.coincident_peak is not None and v.document.coincident_peak.basis == basis
            for versions in self.versions.values()
            for v in versions
        )
        if not wanted or (basis == "feeder" and not feeder_code):
            return None
        key = feeder_code if basis == "feeder" else None
        if key not in self.loads:
            starts, kwh_e4 = import_load_arrays(feeder_code=key, start=self.window_from, end=self.window_to)
            self.loads[key] = commercial.LoadSeries(starts=starts, kwh_e4=kwh_e4)
        return self.loads[key]

    def load_tariffs(self, tariff_ids: Iterable[int]) -> None:
        """Versions overlapping the window of tariffs not loaded yet; one query for them all, then one per
        market, one for the events of each tariff and two per dynamic tariff (never per account)."""
        missing = sorted(set(tariff_ids) - set(self.versions))
        if not missing:
            return
        tariffs = {t.pk: t for t in Tariff.objects.filter(pk__in=missing)}
        rows = list(
            TariffVersion.objects.filter(tariff_id__in=missing, valid_from__lt=self.window_to)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=self.window_from))
            .order_by("tariff_id", "valid_from", "pk")
        )
        documents = {row.pk: parse_tariff_document(row.document) for row in rows}
        markets = tariff_selectors.market_series(
            {d.energy.market for d in documents.values() if isinstance(d.energy, IndexedEnergy)},
            self.window_from,
            self.window_to,
        )
        events = {
            pk: tuple(tariff_selectors.tariff_events(tariffs[pk], self.window_from, self.window_to))
            for pk in missing
        }
        for pk in missing:
            self.versions[pk] = []
        for row in rows:
            document = documents[row.pk]
            published = None
            if isinstance(document.energy, DynamicEnergy):
                published = tariff_selectors.published_series(
                    tariffs[row.tariff_id],
                    document.zone,
                    max(row.valid_from, self.window_from),
                    min(row.valid_to or self.window_to, self.window_to),
                )
            self.versions[row.tariff_id].append(
                engine.PricedVersion(
                    version_id=row.pk,
                    valid_from=row.valid_from,
                    valid_to=row.valid_to,
                    document=document,
                    market=markets.get(document.energy.market)
                    if isinstance(document.energy, IndexedEnergy)
                    else None,
                    published=published,
                    events=events[row.tariff_id],
                )
            )


@dataclass(frozen=True)
class _Outcome:
    bill: engine.Bill | None = None
    held: str = ""
    failed: str = ""
    skip: bool = False  # the agreements touch the loading margin but not the period itself


def _bill_customers(customer_ids: list[int], context: _Context) -> dict[int, _Outcome]:
    """Compute the bill (or the reason to hold it) of each account: a constant number of queries."""
    if not customer_ids:
        return {}
    agreements = list(
        Agreement.objects.filter(customer_id__in=customer_ids, valid_from__lt=context.window_to)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=context.window_from))
        .select_related("meter_point")
        .order_by("customer_id", "valid_from", "pk")
    )
    context.load_tariffs(
        {a.import_tariff_id for a in agreements}
        | {a.export_tariff_id for a in agreements if a.export_tariff_id}
    )
    meters = list(
        Meter.objects.filter(
            meter_point_id__in={a.meter_point_id for a in agreements}, installed_at__lt=context.window_to
        )
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=context.window_from))
        .order_by("pk")
    )
    series = _meter_series(meters, context)
    by_point: dict[int, list[engine.MeterSeries]] = defaultdict(list)
    for meter in meters:
        by_point[meter.meter_point_id].append(series[meter.pk])
    inputs: dict[int, list[engine.AgreementInput]] = defaultdict(list)
    for agreement in agreements:
        inputs[agreement.customer_id].append(
            engine.AgreementInput(
                valid_from=agreement.valid_from,
                valid_to=agreement.valid_to,
                import_versions=context.versions[agreement.import_tariff_id],
                export_versions=context.versions[agreement.export_tariff_id]
                if agreement.export_tariff_id
                else (),
                meters=by_point[agreement.meter_point_id],
                label=f"meter point {agreement.meter_point.identifier}",
                feeder_load=context.load_for("feeder", agreement.meter_point.feeder_code),
                system_load=context.load_for("system", ""),
            )
        )
    outcomes = {}
    for customer_id in customer_ids:
        try:
            bill = engine.bill_compute(
                agreements=inputs[customer_id],
                period_start=context.period_start,
                period_end=context.period_end,
            )
        except engine.BillHeld as exc:
            outcomes[customer_id] = _Outcome(held=exc.reason)
            continue
        except Exception as exc:  # one account's bad data must not stop the run
            log.exception("billing account %s failed", customer_id)
            outcomes[customer_id] = _Outcome(failed=f"{type(exc).__name__}: {exc}"[:300])
            continue
        outcomes[customer_id] = _Outcome(bill=bill) if bill.lines else _Outcome(skip=True)
    return outcomes


def _meter_series(meters: list[Meter], context: _Context) -> dict[int, engine.MeterSeries]:
    """Every meter's readings from ONE query (binary COPY on PostgreSQL), split per meter with numpy."""
    ids = np.array(sorted(m.pk for m in meters), dtype=np.int64)
    loaded = reading_arrays(meter_ids=ids, start=context.readings_from(), end=context.window_to)
    order = np.lexsort((loaded.start_s, loaded.meter_id))
    meter_id = loaded.meter_id[order]
    starts = loaded.start_s[order].astype("datetime64[s]")
    kwh_e4 = loaded.kwh_e4[order]
    estimated = loaded.quality[order] != Quality.ACTUAL
    lo = np.searchsorted(meter_id, ids, side="left")
    hi = np.searchsorted(meter_id, ids, side="right")
    bounds = {int(pk): (int(a), int(b)) for pk, a, b in zip(ids, lo, hi, strict=True)}
    result = {}
    for meter in meters:
        a, b = bounds[meter.pk]
        result[meter.pk] = engine.MeterSeries(
            serial=meter.serial,
            direction=meter.direction,
            interval_seconds=meter.resolution_minutes * 60,
            installed_at=meter.installed_at,
            removed_at=meter.removed_at,
            starts=starts[a:b],
            kwh_e4=kwh_e4[a:b],
            estimated=estimated[a:b],
        )
    return result


# --- writing ------------------------------------------------------------------------------------------


def _write_chunk(run: BillRun, chunk: list[int], outcomes: dict[int, _Outcome], *, now: datetime) -> None:
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
    run: BillRun, chunk: list[int], outcomes: dict[int, _Outcome], *, now: datetime, skipped: list
) -> None:
    done = set(
        BillRunItem.objects.filter(bill_run=run, customer_id__in=chunk).values_list("customer_id", flat=True)
    )
    invoiced = dict(
        Invoice.objects.filter(
            customer_id__in=chunk, period_start=run.period_start, period_end=run.period_end
        )
        .exclude(status=Invoice.Status.VOID)
        .values_list("customer_id", "bill_run_id")
    )
    skipped.append(frozenset(done) | frozenset(invoiced))
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
        elif outcome.bill is not None:
            invoices.append(_invoice(customer_id, outcome.bill, run.period_start, run.period_end, run, now))
            bills.append(outcome.bill)
            items.append(_item(run, customer_id, BillRunItem.Outcome.INVOICED, ""))
        elif outcome.held:
            items.append(_item(run, customer_id, BillRunItem.Outcome.HELD, outcome.held))
        else:
            items.append(_item(run, customer_id, BillRunItem.Outcome.FAILED, outcome.failed))
    _save_invoices(invoices, bills, source={"bill_run": run.pk, "idempotency_key": run.idempotency_key})
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


def _item(run: BillRun, customer_id: int, outcome: str, reason: str) -> BillRunItem:
    return BillRunItem(bill_run=run, customer_id=customer_id, outcome=outcome, reason=reason[:300])


def _invoice(
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


def _save_invoices(invoices: list[Invoice], bills: list[engine.Bill], *, source: dict) -> None:
    """Insert the invoices (ids come back from the insert), then all their lines and taxes in one bulk
    insert each, and one audit entry per invoice: bulk inserts bypass django-auditlog, so the entries are
    written here, in the same transaction (`source` says what created the invoices)."""
    if not invoices:
        return
    Invoice.objects.bulk_create(invoices)
    pairs = list(zip(invoices, bills, strict=True))
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice_id=invoice.pk,
                kind=line.kind,
                band=line.band[:40],
                description=line.description[:200],
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                amount=line.amount,
                tariff_version_id=line.version_id,
                estimated=line.estimated,
            )
            for invoice, bill in pairs
            for line in bill.lines
        ]
    )
    InvoiceTax.objects.bulk_create(
        [
            InvoiceTax(
                invoice_id=invoice.pk, name=tax.name, rate=tax.rate, base_amount=tax.base, amount=tax.amount
            )
            for invoice, bill in pairs
            for tax in bill.taxes
        ]
    )
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


# --- re-billing ---------------------------------------------------------------------------------------


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
    from billing.services.invoices import invoice_void  # provided by the invoices service

    report = RebillReport(credited=[], replaced={}, held={})
    for invoice in _revised_invoices(invoice_numbers):
        context = _Context(invoice.period_start, invoice.period_end)
        outcome = _bill_customers([invoice.customer_id], context)[invoice.customer_id]
        if outcome.bill is None:
            report.held[invoice.number] = outcome.held or outcome.failed
            continue
        with transaction.atomic():
            invoice_void(
                number=invoice.number,
                reason="Re-billed: meter readings were revised after this invoice was billed.",
                now=now,
            )
            corrected = _invoice(
                invoice.customer_id,
                outcome.bill,
                invoice.period_start,
                invoice.period_end,
                None,
                now,
                replaces=invoice,
            )
            _save_invoices([corrected], [outcome.bill], source={"rebill_of": invoice.number})
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
    window_from, window_to = _window(first, last)
    revised = list(
        Reading.objects.filter(
            revised_at__isnull=False,
            interval_start__gte=window_from,
            interval_start__lt=window_to,
            meter__meter_point__agreements__customer_id__in={i.customer_id for i in candidates},
        ).values_list(
            "meter__meter_point__agreements__customer_id",
            "meter__meter_point__timezone",
            "interval_start",
            "revised_at",
        )
    )
    by_customer: dict[int, list[tuple[str, datetime, datetime]]] = defaultdict(list)
    for customer_id, zone, start, revised_at in revised:
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


__all__ = [
    "BillRunKeyReused",
    "BillRunNotFound",
    "RebillReport",
    "UnableToStartBillRun",
    "bill_rebill_revised",
    "bill_run_execute",
    "bill_run_start",
]
