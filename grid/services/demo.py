"""The demo's grid step: a SimBench MV network, the London feeders mapped onto it, an evening-ramp
scenario."""

from datetime import UTC, datetime

from grid.models import Scenario
from grid.services.feeders import network_feeders_map
from grid.services.network import network_import
from grid.services.scenarios import scenario_create, scenario_run

DEMO_CODE = "1-MV-rural--0-sw"  # 97 buses, 96 loads (MV/LV substations), 102 PV/wind generators
DEMO_NAME = "demo-mv-rural"
DEMO_DAY = datetime(2013, 1, 15, tzinfo=UTC)  # a day of the London trial's readings


def grid_demo(*, now: datetime, feeder_codes: list[str]) -> str:
    """Import (once), map feeders, run the evening ramp of DEMO_DAY; returns a one-line summary."""
    network, _ = network_import(name=DEMO_NAME, simbench_code=DEMO_CODE)
    network_feeders_map(network=network, feeder_codes=feeder_codes)
    scenario = Scenario.objects.filter(
        network=network, kind=Scenario.Kind.EVENING_RAMP, day_start=DEMO_DAY
    ).first()
    if scenario is None:
        scenario = scenario_create(
            network=network,
            kind=Scenario.Kind.EVENING_RAMP,
            day_start=DEMO_DAY,
            parameters={"load_rise": 2.0},
            now=now,
        )
    scenario = scenario_run(scenario_id=scenario.pk, now=now)
    return (
        f"{network.name}: {len(feeder_codes)} feeders mapped; evening ramp {scenario.status}, "
        f"{scenario.violation_steps} steps with violations, plan {scenario.peak_shed_mw:.2f} MW"
    )
