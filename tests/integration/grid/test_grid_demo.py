"""The demo's grid step: SimBench 1-MV-rural with feeders mapped runs an evening ramp that breaks limits in
the evening and gets a shedding plan (without metering data the base day is SimBench's profiles)."""

from datetime import UTC, datetime

import pytest

from grid.models import Scenario, ScenarioStep
from grid.services.demo import DEMO_DAY, grid_demo
from grid.services.network import network_cache_clear

pytestmark = pytest.mark.django_db


def test_the_demo_evening_ramp_shows_violations_and_a_plan():
    network_cache_clear()
    summary = grid_demo(now=datetime(2026, 1, 1, tzinfo=UTC), feeder_codes=["LDN-F01", "SIM-F02"])

    scenario = Scenario.objects.get(kind=Scenario.Kind.EVENING_RAMP, day_start=DEMO_DAY)
    assert scenario.status == Scenario.Status.COMPLETED
    assert scenario.parameters["peak_load_mw"] == pytest.approx(17.256)
    assert scenario.violation_steps > 0
    evening = ScenarioStep.objects.filter(scenario=scenario, violation_count__gt=0)
    assert all(15 <= s.interval_start.hour <= 23 for s in evening)
    assert scenario.plan is not None
    assert scenario.plan.feasible
    assert scenario.plan.violations_after == 0
    assert scenario.peak_shed_mw > 0
    assert f"{scenario.violation_steps} steps with violations" in summary
    network_cache_clear()
