"""GraphQL operations of storage and balancing: battery assets, schedule runs, what-if, balancing runs.

Everything needs `grid:read` or `grid:write` (staff sessions pass; customers do not). The coordinator merges
these Query/Mutation types into grid's own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from django.utils import timezone
from strawberry.scalars import JSON

from core.api.errors import api_error, not_found
from core.api.permissions import ScopeRequired
from core.errors import BAD_USER_INPUT
from grid import models
from grid.selectors.storage import (
    balancing_run_list,
    battery_asset_list,
    schedule_rows,
    schedule_run_get,
    schedule_run_list,
)
from grid.services import balancing as balancing_services
from grid.services import storage as storage_services

MAX_LIST = 100


@strawberry.type
class BatteryAsset:
    code: str
    meter_point_identifier: str
    feeder_code: str
    capacity_kwh: Decimal
    power_kw: Decimal
    efficiency_charge: Decimal
    efficiency_discharge: Decimal
    soc_min_kwh: Decimal
    soc_max_kwh: Decimal
    soc_initial_kwh: Decimal
    degradation_cost_per_kwh: Decimal
    pv_peak_kw: Decimal
    active: bool

    @classmethod
    def of(cls, asset: models.BatteryAsset) -> BatteryAsset:
        return cls(
            code=asset.code,
            meter_point_identifier=asset.meter_point.identifier,
            feeder_code=asset.meter_point.feeder_code,
            **{
                name: getattr(asset, name)
                for name in (
                    "capacity_kwh",
                    "power_kw",
                    "efficiency_charge",
                    "efficiency_discharge",
                    "soc_min_kwh",
                    "soc_max_kwh",
                    "soc_initial_kwh",
                    "degradation_cost_per_kwh",
                    "pv_peak_kw",
                    "active",
                )
            },
        )


@strawberry.type
class ScheduleInterval:
    """One unit's set points over [intervalStart, intervalStart + 30 min); SoC at the interval's end."""

    unit: str
    interval_start: dt.datetime
    charge_kw: float
    discharge_kw: float
    soc_kwh: float
    pv_kw: float
    load_kw: float


@strawberry.type
class ScheduleRun:
    id: strawberry.ID
    kind: str
    tariff_code: str
    period_start: dt.datetime
    period_end: dt.datetime
    status: str
    message: str
    objective: Decimal | None
    units: int
    intervals: int
    seconds: float
    self_consumption_without_pct: float | None
    self_consumption_with_pct: float | None
    feeders_coupled: list[str]
    dispatched_at: dt.datetime | None
    acknowledged_units: int

    @strawberry.field
    def rows(self, unit: str) -> list[ScheduleInterval]:
        """The set points of one unit in this run, in time order."""
        return [
            ScheduleInterval(unit=unit, **row) for row in schedule_rows(run_id=int(self.id), asset_code=unit)
        ]

    @classmethod
    def of(cls, run: models.ScheduleRun) -> ScheduleRun:
        return cls(
            id=strawberry.ID(str(run.pk)),
            kind=run.kind,
            tariff_code=run.tariff_code,
            period_start=run.period_start,
            period_end=run.period_end,
            status=run.status,
            message=run.message,
            objective=run.objective,
            units=run.units,
            intervals=run.intervals,
            seconds=run.seconds,
            self_consumption_without_pct=run.self_consumption_without_pct,
            self_consumption_with_pct=run.self_consumption_with_pct,
            feeders_coupled=list(run.feeders_coupled),
            dispatched_at=run.dispatched_at,
            acknowledged_units=run.acknowledged_units,
        )


@strawberry.type
class FeederWhatIf:
    feeder_code: str
    limit_kw: float | None
    peak_before_kw: float
    peak_after_kw: float
    load_before_kw: list[float]
    load_after_kw: list[float]


@strawberry.type
class PriceSignalWhatIf:
    """Predicted feeder load under a candidate band signal, against the same day all Normal."""

    interval_starts: list[dt.datetime]
    bands: list[str]
    peak_before_kw: float
    peak_after_kw: float
    peak_change_pct: float
    feeders: list[FeederWhatIf]


@strawberry.type
class BalancingRun:
    id: strawberry.ID
    tariff_code: str
    day: dt.date
    status: str
    peak_before_kw: float
    peak_after_kw: float
    shed_kwh_without_signal: float
    shed_kwh_with_signal: float
    publication_revision: int | None
    adders: JSON
    feeder_peaks: JSON

    @classmethod
    def of(cls, run: models.BalancingRun) -> BalancingRun:
        return cls(
            id=strawberry.ID(str(run.pk)),
            tariff_code=run.tariff_code,
            day=run.day,
            status=run.status,
            peak_before_kw=run.peak_before_kw,
            peak_after_kw=run.peak_after_kw,
            shed_kwh_without_signal=run.shed_kwh_without_signal,
            shed_kwh_with_signal=run.shed_kwh_with_signal,
            publication_revision=run.publication_revision,
            adders=run.adders,
            feeder_peaks=run.feeder_peaks,
        )


@strawberry.input
class BatteryAssetUpsertInput:
    code: str
    meter_point_identifier: str
    capacity_kwh: Decimal
    power_kw: Decimal
    soc_max_kwh: Decimal
    soc_initial_kwh: Decimal
    soc_min_kwh: Decimal | None = None
    efficiency_charge: Decimal | None = None
    efficiency_discharge: Decimal | None = None
    degradation_cost_per_kwh: Decimal | None = None
    pv_peak_kw: Decimal | None = None
    active: bool | None = None


@strawberry.input
class FeederLimitSetInput:
    feeder_code: str
    import_limit_kw: Decimal
    export_limit_kw: Decimal


@strawberry.type
class FeederLimit:
    feeder_code: str
    import_limit_kw: Decimal
    export_limit_kw: Decimal


@strawberry.input
class StorageScheduleRunInput:
    tariff_code: str
    period_start: dt.datetime
    period_end: dt.datetime
    export_price_per_kwh: Decimal = Decimal("0.05")


@strawberry.input
class BalancingRunCreateInput:
    tariff_code: str
    day: dt.date
    feeder_codes: list[str] | None = None
    publish: bool = False


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIST:
        raise api_error(f"limit must be between 1 and {MAX_LIST}.", BAD_USER_INPUT, field="limit")
    return limit


@strawberry.type
class Query:
    @strawberry.field(extensions=[ScopeRequired("grid:read")])
    def battery_assets(self, feeder_code: str | None = None) -> list[BatteryAsset]:
        """Battery assets behind meter points, by code."""
        return [BatteryAsset.of(asset) for asset in battery_asset_list(feeder_code=feeder_code)]

    @strawberry.field(extensions=[ScopeRequired("grid:read")])
    def schedule_runs(self, limit: int = 20) -> list[ScheduleRun]:
        """The latest schedule runs, newest first."""
        return [ScheduleRun.of(run) for run in schedule_run_list()[: _limit(limit)]]

    @strawberry.field(extensions=[ScopeRequired("grid:read")])
    def schedule_run(self, id: strawberry.ID) -> ScheduleRun | None:
        run = schedule_run_get(run_id=int(id)) if id.isdigit() else None
        if run is None:
            raise not_found(f"No schedule run {id}.", field="id")
        return ScheduleRun.of(run)

    @strawberry.field(extensions=[ScopeRequired("grid:read")])
    def price_signal_what_if(
        self, day: dt.date, bands: list[str], feeder_codes: list[str] | None = None
    ) -> PriceSignalWhatIf:
        """Predicted load per feeder if `bands` (Low/Normal/High per UTC half hour) were announced."""
        try:
            result = balancing_services.price_signal_what_if(day=day, bands=bands, feeder_codes=feeder_codes)
        except balancing_services.UnableToBalance as exc:
            raise api_error(exc.messages[0], BAD_USER_INPUT, field=exc.field) from exc
        before, after = result.peak_before_kw, result.peak_after_kw
        return PriceSignalWhatIf(
            interval_starts=result.starts,
            bands=result.bands,
            peak_before_kw=before,
            peak_after_kw=after,
            peak_change_pct=round(100 * (after - before) / before, 2) if before else 0.0,
            feeders=[
                FeederWhatIf(
                    feeder_code=code,
                    limit_kw=outcome.limit_kw,
                    peak_before_kw=outcome.peak_before_kw,
                    peak_after_kw=outcome.peak_after_kw,
                    load_before_kw=[round(float(v), 4) for v in outcome.before_kw],
                    load_after_kw=[round(float(v), 4) for v in outcome.after_kw],
                )
                for code, outcome in result.feeders.items()
            ],
        )

    @strawberry.field(extensions=[ScopeRequired("grid:read")])
    def balancing_runs(self, limit: int = 20) -> list[BalancingRun]:
        return [BalancingRun.of(run) for run in balancing_run_list()[: _limit(limit)]]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def battery_asset_upsert(self, input: BatteryAssetUpsertInput) -> BatteryAsset:
        """Create or change a battery behind a meter point."""
        values = {k: v for k, v in vars(input).items() if k not in ("code", "meter_point_identifier")}
        asset = storage_services.battery_asset_upsert(
            code=input.code, meter_point_identifier=input.meter_point_identifier, **values
        )
        return BatteryAsset.of(asset)

    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def feeder_limit_set(self, input: FeederLimitSetInput) -> FeederLimit:
        limit = storage_services.feeder_limit_set(
            feeder_code=input.feeder_code,
            import_limit_kw=input.import_limit_kw,
            export_limit_kw=input.export_limit_kw,
        )
        return FeederLimit(
            feeder_code=limit.feeder_code,
            import_limit_kw=limit.import_limit_kw,
            export_limit_kw=limit.export_limit_kw,
        )

    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def storage_schedule_run(self, input: StorageScheduleRunInput) -> ScheduleRun:
        """Schedule the active fleet over [periodStart, periodEnd) against the tariff's rates (idempotent)."""
        run = storage_services.storage_schedule_run(
            tariff_code=input.tariff_code,
            period_start=input.period_start,
            period_end=input.period_end,
            kind=models.ScheduleRun.Kind.WHAT_IF,
            export_price_per_kwh=input.export_price_per_kwh,
            now=timezone.now(),
        )
        return ScheduleRun.of(run)

    @strawberry.mutation(extensions=[ScopeRequired("grid:write")])
    def balancing_run_create(self, input: BalancingRunCreateInput) -> BalancingRun:
        """Choose the day's bands for the feeders' limits; `publish` announces them via the ledger."""
        run = balancing_services.balancing_run(
            tariff_code=input.tariff_code,
            day=input.day,
            feeder_codes=input.feeder_codes,
            publish=input.publish,
            now=timezone.now(),
        )
        return BalancingRun.of(run)
