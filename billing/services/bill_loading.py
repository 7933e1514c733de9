"""Loading and computing a bill run's accounts: tariff versions with their rate series once per run, then
per chunk the agreements, meters and readings in a constant number of queries, priced by `billing.engine`.

Nothing here writes: `accounts_bill` says, per account, the bill or why it is held or failed.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Q

from billing import commercial, engine
from billing.bill_data import LoadSeries
from billing.models import Agreement
from metering.selectors.issues import data_issue_suspect_open_list
from metering.selectors.readings import import_load_arrays, meter_list_installed, meter_reading_arrays
from pricing.documents import DynamicEnergy, IndexedEnergy, parse_tariff_document
from pricing.selectors import tariffs as tariff_selectors

if TYPE_CHECKING:  # annotations only: metering is read through its selectors
    from metering.models import Meter

log = logging.getLogger(__name__)

# Local dates become instants in the tariff's zone; loading a day either side covers every zone.
_MARGIN = timedelta(days=1)


def period_window(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The UTC instants to load for the local dates `[period_start, period_end)` of any zone."""
    return (
        datetime.combine(period_start, time(0), tzinfo=UTC) - _MARGIN,
        datetime.combine(period_end, time(0), tzinfo=UTC) + _MARGIN,
    )


class RunContext:
    """What a run loads once and shares between chunks: tariff versions with their rate series."""

    def __init__(self, period_start: date, period_end: date) -> None:
        self.period_start = period_start
        self.period_end = period_end
        self.window_from, self.window_to = period_window(period_start, period_end)
        self.versions: dict[int, list[engine.PricedVersion]] = {}
        self.loads: dict[str | None, LoadSeries] = {}

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

    def load_for(self, basis: str, feeder_code: str) -> LoadSeries | None:
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
            self.loads[key] = LoadSeries(starts=starts, kwh_e4=kwh_e4)
        return self.loads[key]

    def load_tariffs(self, tariff_ids: Iterable[int]) -> None:
        """Versions overlapping the window of tariffs not loaded yet; one query for them all, then one per
        market, one for the events of each tariff and two per dynamic tariff (never per account)."""
        missing = sorted(set(tariff_ids) - set(self.versions))
        if not missing:
            return
        tariffs = tariff_selectors.tariff_by_id(tariff_ids=missing)
        rows = list(
            tariff_selectors.tariff_version_list_overlapping(
                tariff_ids=missing, period_from=self.window_from, period_to=self.window_to
            )
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
class AccountOutcome:
    bill: engine.Bill | None = None
    held: str = ""
    failed: str = ""
    skip: bool = False  # the agreements touch the loading margin but not the period itself


def account_inputs(
    customer_ids: list[int], context: RunContext
) -> tuple[list[Agreement], list["Meter"], dict[int, list[engine.AgreementInput]]]:
    """The agreements, meters and engine inputs of each account, loaded set-based (a constant number of
    queries); the bill run and the tariff comparison both load this way."""
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
        meter_list_installed(
            meter_point_ids={a.meter_point_id for a in agreements},
            period_start=context.window_from,
            period_end=context.window_to,
        )
    )
    series = meter_series(meters, context)
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
                minimum_charge_per_month=agreement.minimum_charge_per_month,
            )
        )
    return agreements, meters, inputs


def accounts_bill(customer_ids: list[int], context: RunContext) -> dict[int, AccountOutcome]:
    """Compute the bill (or the reason to hold it) of each account: a constant number of queries."""
    if not customer_ids:
        return {}
    agreements, meters, inputs = account_inputs(customer_ids, context)
    suspect = _suspect_readings(agreements, meters, context)
    outcomes = {}
    for customer_id in customer_ids:
        if customer_id in suspect:
            outcomes[customer_id] = AccountOutcome(held=suspect[customer_id])
            continue
        try:
            bill = engine.bill_compute(
                agreements=inputs[customer_id],
                period_start=context.period_start,
                period_end=context.period_end,
            )
        except engine.BillHeld as exc:
            outcomes[customer_id] = AccountOutcome(held=exc.reason)
            continue
        except Exception as exc:  # one account's bad data must not stop the run
            log.exception("billing account %s failed", customer_id)
            outcomes[customer_id] = AccountOutcome(failed=f"{type(exc).__name__}: {exc}"[:300])
            continue
        outcomes[customer_id] = AccountOutcome(bill=bill) if bill.lines else AccountOutcome(skip=True)
    return outcomes


def _suspect_readings(
    agreements: list[Agreement], meters: list["Meter"], context: RunContext
) -> dict[int, str]:
    """Why each account with an open spike or stuck-value data issue on a billed interval is held (one query).

    VEE flags those readings but keeps their values; billing them as they are would bill a suspect value
    silently, so the account waits until staff resolve the issue (or replace the values by estimates).
    """
    if not meters:
        return {}
    issues = data_issue_suspect_open_list(
        meter_ids=[m.pk for m in meters], period_start=context.window_from, period_end=context.window_to
    )
    by_point: dict[int, list] = defaultdict(list)
    serials = {m.pk: (m.meter_point_id, m.serial) for m in meters}
    for issue in issues:
        point, serial = serials[issue.meter_id]
        by_point[point].append((issue, serial))
    reasons: dict[int, str] = {}
    for agreement in agreements:
        if agreement.customer_id in reasons or agreement.meter_point_id not in by_point:
            continue
        zone = ZoneInfo(agreement.meter_point.timezone)
        start = max(datetime.combine(context.period_start, time(0), tzinfo=zone), agreement.valid_from)
        end = datetime.combine(context.period_end, time(0), tzinfo=zone)
        if agreement.valid_to is not None:
            end = min(end, agreement.valid_to)
        for issue, serial in by_point[agreement.meter_point_id]:
            if issue.starts_at < end and start < issue.ends_at:
                reasons[agreement.customer_id] = (
                    f"meter point {agreement.meter_point.identifier}: meter {serial} has an open "
                    f"{issue.get_kind_display().lower()} issue from {issue.starts_at:%Y-%m-%dT%H:%MZ} "
                    f"({issue.detail}); resolve it or estimate the readings before billing"
                )[:300]
                break
    return reasons


def meter_series(meters: list["Meter"], context: RunContext) -> dict[int, engine.MeterSeries]:
    """Every meter's readings from ONE query returning one row per meter (binary COPY on PostgreSQL)."""
    ids = np.array(sorted(m.pk for m in meters), dtype=np.int64)
    loaded = {
        arrays.meter_id: arrays
        for arrays in meter_reading_arrays(
            meter_ids=ids, start=context.readings_from(), end=context.window_to
        )
    }
    empty = np.zeros(0, dtype=np.int64)
    result = {}
    for meter in meters:
        found = loaded.get(meter.pk)
        result[meter.pk] = engine.MeterSeries(
            serial=meter.serial,
            direction=meter.direction,
            interval_seconds=meter.resolution_minutes * 60,
            installed_at=meter.installed_at,
            removed_at=meter.removed_at,
            starts=(found.start_s if found else empty).astype("datetime64[s]"),
            kwh_e4=found.kwh_e4 if found else empty,
            estimated=found.estimated() if found else np.zeros(0, dtype=bool),
        )
    return result
