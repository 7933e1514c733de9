"""Simulated smart meters: a fleet of meter points with premise attributes and their half-hourly data.

Consumption comes from `metering.simulator` (calibrated against 300 real London households, see README);
PV premises get an export meter as well.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import transaction

from core import audit
from metering.models import Direction, HeatingType, Meter, MeterPoint
from metering.simulator import Premise, round_kwh, simulate
from metering.validation import KWH_SCALE, ReadingArrays

HEATING_SHARES = {HeatingType.GAS: 0.80, HeatingType.HEAT_PUMP: 0.12, HeatingType.ELECTRIC_STORAGE: 0.08}
# The simulator (Django-free) names heating kinds in lower case (metering.simulator.HEATING_KINDS).
PREMISE_HEATING = {
    HeatingType.GAS: "gas",
    HeatingType.HEAT_PUMP: "heat_pump",
    HeatingType.ELECTRIC_STORAGE: "electric_storage",
}
RESIDENT_SHARES = {1: 0.29, 2: 0.35, 3: 0.16, 4: 0.14, 5: 0.06}
PV_SHARE = 0.20
BATTERY_SHARE_OF_PV = 0.30


@dataclass(frozen=True)
class SimulatedFleet:
    premises: list[Premise]
    import_meter_ids: np.ndarray  # per premise
    export_meter_ids: np.ndarray  # per premise, -1 without PV
    import_serials: list[str]
    export_serials: list[str | None]
    timezone: str


@transaction.atomic
def simulated_fleet_ensure(
    *,
    count: int,
    prefix: str = "SIM",
    seed: int = 0,
    timezone: str = "Europe/London",
    feeders: int = 50,
    regions: int = 5,
    installed_at: datetime | None = None,
) -> SimulatedFleet:
    """Create (or reuse) `count` simulated meter points with seeded premise attributes; bulk writes."""
    rng = np.random.default_rng(seed)
    heating = rng.choice(list(HEATING_SHARES), size=count, p=list(HEATING_SHARES.values()))
    residents = rng.choice(list(RESIDENT_SHARES), size=count, p=list(RESIDENT_SHARES.values()))
    has_pv = rng.random(count) < PV_SHARE
    has_battery = has_pv & (rng.random(count) < BATTERY_SHARE_OF_PV)
    identifiers = [f"{prefix}-{i:06d}" for i in range(count)]
    existing = set(MeterPoint.objects.filter(identifier__in=identifiers).values_list("identifier", flat=True))
    audit.bulk_create_audited(
        MeterPoint,
        [
            MeterPoint(
                identifier=identifiers[i],
                timezone=timezone,
                feeder_code=f"{prefix}-F{i % feeders:03d}",
                region_code=f"{prefix}-R{i % feeders % regions}",
                heating_type=str(heating[i]),
                residents=int(residents[i]),
                has_pv=bool(has_pv[i]),
                has_battery=bool(has_battery[i]),
            )
            for i in range(count)
            if identifiers[i] not in existing
        ],
        batch_size=5000,
    )
    points = dict(MeterPoint.objects.filter(identifier__in=identifiers).values_list("identifier", "id"))
    installed_at = installed_at or datetime(2000, 1, 1, tzinfo=UTC)
    wanted = [(identifiers[i], f"{identifiers[i]}-I", Direction.IMPORT) for i in range(count)] + [
        (identifiers[i], f"{identifiers[i]}-E", Direction.EXPORT) for i in range(count) if has_pv[i]
    ]
    have = set(Meter.objects.filter(serial__in=[w[1] for w in wanted]).values_list("serial", flat=True))
    audit.bulk_create_audited(
        Meter,
        [
            Meter(meter_point_id=points[point], serial=serial, direction=direction, installed_at=installed_at)
            for point, serial, direction in wanted
            if serial not in have
        ],
        batch_size=5000,
    )
    ids = dict(Meter.objects.filter(serial__in=[w[1] for w in wanted]).values_list("serial", "id"))
    export_serials = [f"{identifiers[i]}-E" if has_pv[i] else None for i in range(count)]
    return SimulatedFleet(
        premises=[
            Premise(
                heating=PREMISE_HEATING[HeatingType(heating[i])],
                residents=int(residents[i]),
                has_pv=bool(has_pv[i]),
                has_battery=bool(has_battery[i]),
            )
            for i in range(count)
        ],
        import_meter_ids=np.array([ids[f"{p}-I"] for p in identifiers], dtype="int64"),
        export_meter_ids=np.array([ids[s] if s else -1 for s in export_serials], dtype="int64"),
        import_serials=[f"{p}-I" for p in identifiers],
        export_serials=export_serials,
        timezone=timezone,
    )


def simulated_days(
    *, fleet: SimulatedFleet, start: datetime, days: int, seed: int = 0
) -> Iterator[ReadingArrays]:
    """One ReadingArrays per UTC day: every import reading, and export readings of PV premises."""
    for day in range(days):
        day_start = np.datetime64((start + timedelta(days=day)).astimezone(UTC).replace(tzinfo=None), "s")
        starts = day_start + np.arange(48) * np.timedelta64(1800, "s")
        imports, exports = simulate(fleet.premises, starts, timezone=fleet.timezone, seed=seed)
        has_export = fleet.export_meter_ids >= 0
        meter = np.concatenate(
            [np.repeat(fleet.import_meter_ids, 48), np.repeat(fleet.export_meter_ids[has_export], 48)]
        )
        values = np.concatenate([round_kwh(imports).ravel(), round_kwh(exports[has_export]).ravel()])
        kwh_e4 = np.rint(values * KWH_SCALE).astype("int64")
        start_col = np.tile(starts, len(meter) // 48)
        yield ReadingArrays(
            meter_id=meter,
            start=start_col,
            end=start_col + np.timedelta64(1800, "s"),
            kwh_e4=kwh_e4,
            kwh_reject=np.zeros(len(meter), dtype="int8"),
        )
