"""The demo's grid steps: 50 London households get a home battery and PV and the fleet is scheduled; a
SimBench MV network gets the London feeders mapped onto it and runs an evening-ramp scenario."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from grid.models import Scenario, ScheduleInterval, ScheduleRun
from grid.selectors.storage import schedule_run_list
from grid.services.feeders import network_feeders_map
from grid.services.network import network_import, network_model
from grid.services.scenarios import scenario_create, scenario_run
from grid.services.storage import (
    battery_asset_upsert,
    feeder_limit_set,
    fleet_inputs,
    schedule_day_bounds,
    storage_schedule_run,
)
from metering.selectors.readings import meter_point_identifier_list


def storage_demo(
    *, tariff_code: str, feeder_code: str, day: datetime, now: datetime, households: int = 50
) -> str:
    """Give `households` meter points of the feeder a battery (5/10/13.5 kWh) and 3.5 kWp PV, cap the feeder
    at 90 % of their net peak, schedule `day` against the tariff's announced rates; return a summary line."""
    points = meter_point_identifier_list(feeder_code=feeder_code, limit=households)
    capacities = (Decimal("5"), Decimal("10"), Decimal("13.5"))
    for k, identifier in enumerate(points):
        capacity = capacities[k % 3]
        battery_asset_upsert(
            code=f"BAT-{identifier}",
            meter_point_identifier=identifier,
            capacity_kwh=capacity,
            power_kw=(capacity / 2).quantize(Decimal("0.01")),
            soc_min_kwh=(capacity / 10).quantize(Decimal("0.01")),
            soc_max_kwh=capacity,
            soc_initial_kwh=(capacity / 2).quantize(Decimal("0.01")),
            degradation_cost_per_kwh=Decimal("0.02"),
            pv_peak_kw=Decimal("3.5"),
        )
    start, end = schedule_day_bounds(day.astimezone(UTC).date())
    problem = fleet_inputs(tariff_code=tariff_code, period_start=start, period_end=end).problem
    peak = float((problem.load_kw - problem.pv_kw).sum(axis=0).max())
    feeder_limit_set(
        feeder_code=feeder_code,
        import_limit_kw=Decimal(str(round(0.9 * peak, 2))),
        export_limit_kw=Decimal(str(round(max(0.9 * peak, 1.0), 2))),
    )
    # A demo run again keeps the day's schedule: once the grid demo has mapped the feeder onto the network,
    # its limit comes from the transformers and the inputs (so the run) would differ.
    run = schedule_run_list().filter(
        tariff_code=tariff_code, period_start=start, period_end=end, kind=ScheduleRun.Kind.DAY_AHEAD
    ).order_by("pk").first() or storage_schedule_run(
        tariff_code=tariff_code, period_start=start, period_end=end, kind=ScheduleRun.Kind.DAY_AHEAD, now=now
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
        f" {len(points)} batteries on {feeder_code}, {start:%Y-%m-%d}: run {run.pk} {run.status.lower()},"
        " net cost "
        f"{run.objective} GBP, feeder peak {peak:.1f} -> {peak_after:.1f} kW (limit {0.9 * peak:.1f}),"
        f" PV self-consumption {_pct(run.self_consumption_without_pct)} ->"
        f" {_pct(run.self_consumption_with_pct)};"
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.0f} %"


DEMO_CODE = "1-MV-rural--0-sw"  # 97 buses, 96 loads (MV/LV substations), 102 PV/wind generators
DEMO_NAME = "demo-mv-rural"
DEMO_DAY = datetime(2013, 1, 15, tzinfo=UTC)  # a day of the London trial's readings
DEMO_LOAD_RISE = 0.6


def grid_demo(*, now: datetime, feeder_codes: list[str]) -> str:
    """Import (once), map feeders, run the evening ramp of DEMO_DAY; returns a one-line summary."""
    network, _ = network_import(name=DEMO_NAME, simbench_code=DEMO_CODE)
    network_feeders_map(network=network, feeder_codes=feeder_codes)
    # The day's loads (measured feeder shapes or SimBench's January profiles) are far below the network's
    # design load: scale the base day so its peak is the stored (design) load, then ramp it by 60 % while PV
    # falls: the ramp overloads MV lines and drops voltages, and the worst step gets a shedding plan.
    design_mw = float(network_model(network=network, as_of=DEMO_DAY).model.load_p.sum())
    parameters = {"load_rise": DEMO_LOAD_RISE, "peak_load_mw": round(design_mw, 3)}
    scenario = Scenario.objects.filter(
        network=network,
        kind=Scenario.Kind.EVENING_RAMP,
        day_start=DEMO_DAY,
        parameters__load_rise=DEMO_LOAD_RISE,
    ).first()
    if scenario is None:
        scenario = scenario_create(
            network=network,
            kind=Scenario.Kind.EVENING_RAMP,
            day_start=DEMO_DAY,
            parameters=parameters,
            now=now,
        )
    scenario = scenario_run(scenario_id=scenario.pk, now=now)
    return (
        f"{network.name}: {len(feeder_codes)} feeders mapped; evening ramp {scenario.status.lower()}, "
        f"{scenario.violation_steps} steps with violations, plan {scenario.peak_shed_mw:.2f} MW"
        + (
            f" ({scenario.plan.status.lower()}, {scenario.plan.power_flows} power flows)"
            if scenario.plan
            else ""
        )
    )
