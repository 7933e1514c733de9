"""GraphQL inputs of storage and balancing."""

import datetime as dt
from decimal import Decimal

import strawberry


@strawberry.input
class BatteryAssetUpsertInput:
    code: str
    meter_point_identifier: str
    capacity_kwh: Decimal
    power_kw: Decimal
    soc_max_kwh: Decimal
    soc_initial_kwh: Decimal
    soc_min_kwh: Decimal | None = None
    min_power_kw: Decimal | None = None
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
