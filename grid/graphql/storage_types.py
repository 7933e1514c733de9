"""GraphQL types of storage and balancing: battery assets, feeder limits, schedule runs and their rows,
price-signal what-ifs, balancing runs and what balancing did in a grid scenario."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
import strawberry_django
from strawberry.scalars import JSON

from grid import models
from grid.graphql.types import choice_name
from grid.selectors.storage import schedule_rows


@strawberry_django.type(models.BatteryAsset, name="BatteryAsset")
class BatteryAssetType:
    code: str
    capacity_kwh: Decimal
    power_kw: Decimal
    min_power_kw: Decimal
    efficiency_charge: Decimal
    efficiency_discharge: Decimal
    soc_min_kwh: Decimal
    soc_max_kwh: Decimal
    soc_initial_kwh: Decimal
    degradation_cost_per_kwh: Decimal
    pv_peak_kw: Decimal
    active: bool

    @strawberry_django.field(only=["meter_point__identifier"], select_related=["meter_point"])
    def meter_point_identifier(self) -> str:
        return self.meter_point.identifier  # type: ignore[attr-defined]

    @strawberry_django.field(only=["meter_point__feeder_code"], select_related=["meter_point"])
    def feeder_code(self) -> str:
        return self.meter_point.feeder_code  # type: ignore[attr-defined]


@strawberry_django.type(models.FeederLimit, name="FeederLimit")
class FeederLimitType:
    feeder_code: str
    import_limit_kw: Decimal
    export_limit_kw: Decimal


@strawberry.type(name="ScheduleInterval")
class ScheduleIntervalType:
    """One unit's set points over one interval of the run; SoC at the interval's end."""

    unit: str
    interval_start: dt.datetime
    charge_kw: float
    discharge_kw: float
    soc_kwh: float
    pv_kw: float
    load_kw: float


@strawberry_django.type(models.ScheduleRun, name="ScheduleRun")
class ScheduleRunType:
    id: strawberry.ID
    kind: str = choice_name("kind")
    tariff_code: str
    period_start: dt.datetime
    period_end: dt.datetime
    status: str = choice_name("status")
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
    jobs_total: int
    jobs_done: int

    @strawberry_django.field
    def rows(self, unit: str) -> list[ScheduleIntervalType]:
        """The set points of one unit in this run, in time order."""
        return [
            ScheduleIntervalType(unit=unit, **row)
            for row in schedule_rows(run_id=self.pk, asset_code=unit)  # type: ignore[attr-defined]
        ]


@strawberry.type(name="FeederWhatIf")
class FeederWhatIfType:
    feeder_code: str
    limit_kw: float | None
    peak_before_kw: float
    peak_after_kw: float
    load_before_kw: list[float]
    load_after_kw: list[float]


@strawberry.type(name="PriceSignalWhatIf")
class PriceSignalWhatIfType:
    """Predicted feeder load under a candidate band signal, against the same day all Normal."""

    interval_starts: list[dt.datetime]
    bands: list[str]
    peak_before_kw: float
    peak_after_kw: float
    peak_change_pct: float
    feeders: list[FeederWhatIfType]


@strawberry_django.type(models.BalancingRun, name="BalancingRun")
class BalancingRunType:
    id: strawberry.ID
    tariff_code: str
    day: dt.date
    status: str
    peak_before_kw: float
    peak_after_kw: float
    shed_kwh_without_signal: float
    shed_kwh_with_signal: float
    valley_fill_kwh: float
    publication_revision: int | None
    adders: JSON
    feeder_peaks: JSON


@strawberry_django.type(models.ScenarioBalancing, name="ScenarioBalancing")
class ScenarioBalancingType:
    """Price balancing and the batteries on the network's feeders in a scenario, next to its shedding plan."""

    bands: JSON
    battery_mw: JSON
    units: int
    peak_base_mw: float
    target_mw: float
    shed_mw: float
    peak_with_balancing_mw: float
    peak_with_storage_mw: float
    residual_shed_mw: float
    battery_discharge_mwh: float
    battery_charge_mwh: float
