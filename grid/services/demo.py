"""The demo's storage step: 50 London households get a home battery and PV, and the fleet is scheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from grid.models import ScheduleInterval
from grid.services.storage import battery_asset_upsert, feeder_limit_set, fleet_inputs, storage_schedule_run
from metering.models import MeterPoint


def storage_demo(
    *, tariff_code: str, feeder_code: str, day: datetime, now: datetime, households: int = 50
) -> str:
    """Give `households` meter points of the feeder a battery (5/10/13.5 kWh) and 3.5 kWp PV, cap the feeder
    at 90 % of their net peak, schedule `day` against the tariff's announced rates; return a summary line."""
    points = list(MeterPoint.objects.filter(feeder_code=feeder_code).order_by("identifier")[:households])
    capacities = (Decimal("5"), Decimal("10"), Decimal("13.5"))
    for k, point in enumerate(points):
        capacity = capacities[k % 3]
        battery_asset_upsert(
            code=f"BAT-{point.identifier}",
            meter_point_identifier=point.identifier,
            capacity_kwh=capacity,
            power_kw=(capacity / 2).quantize(Decimal("0.01")),
            soc_min_kwh=(capacity / 10).quantize(Decimal("0.01")),
            soc_max_kwh=capacity,
            soc_initial_kwh=(capacity / 2).quantize(Decimal("0.01")),
            degradation_cost_per_kwh=Decimal("0.02"),
            pv_peak_kw=Decimal("3.5"),
        )
    start = day.astimezone(UTC)
    end = start + timedelta(days=1)
    problem = fleet_inputs(tariff_code=tariff_code, period_start=start, period_end=end).problem
    peak = float((problem.load_kw - problem.pv_kw).sum(axis=0).max())
    feeder_limit_set(
        feeder_code=feeder_code,
        import_limit_kw=Decimal(str(round(0.9 * peak, 2))),
        export_limit_kw=Decimal(str(round(max(0.9 * peak, 1.0), 2))),
    )
    run = storage_schedule_run(
        tariff_code=tariff_code, period_start=start, period_end=end, kind="day_ahead", now=now
    )
    rows = ScheduleInterval.objects.filter(run=run).values_list(
        "interval_start", "load_kw", "pv_kw", "charge_kw", "discharge_kw"
    )
    before: dict = {}
    after: dict = {}
    for start_at, load, pv, charge, discharge in rows:
        before[start_at] = before.get(start_at, 0.0) + load - pv
        after[start_at] = after.get(start_at, 0.0) + load - pv + charge - discharge
    peak_after = max(after.values()) if after else float("nan")
    return (
        f" {len(points)} batteries on {feeder_code}, {start:%Y-%m-%d}: run {run.pk} {run.status}, net cost "
        f"{run.objective} GBP, feeder peak {peak:.1f} -> {peak_after:.1f} kW (limit {0.9 * peak:.1f}),"
        f" PV self-consumption {_pct(run.self_consumption_without_pct)} ->"
        f" {_pct(run.self_consumption_with_pct)};"
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.0f} %"
