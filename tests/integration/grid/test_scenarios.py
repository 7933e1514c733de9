"""Scenario kinds on a stored 20 kV ring (tests/factories/grid.py ring_net with 0.8 MW of PV on the spur):
each run stores per-step results and, where a step breaks a limit, a shedding plan for the worst step.

The base day of a network without profiles or measured feeders is the typical residential day of
grid/calc/scenarios.py (load peaking about 18:30 UTC, PV 06:00-18:00), scaled by `peak_load_mw`."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from grid.calc import scenarios as shapes
from grid.models import Scenario, ScenarioStep, SheddingPlan
from grid.services.inputs import FALLBACK_TEMPERATURE_SENSITIVITY
from grid.services.network import network_cache_clear, network_import
from grid.services.scenarios import scenario_create, scenario_run
from tests.factories.grid import ring_net

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 7, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
NOON = 48  # 12:00 UTC
AFTERNOON = 60  # 15:00 UTC


@pytest.fixture
def network():
    network_cache_clear()
    network, _ = network_import(name="ring", net=ring_net(pv_mw=0.8))
    yield network
    network_cache_clear()


def run(network, kind, **parameters):
    scenario = scenario_create(network=network, kind=kind, day_start=DAY, parameters=parameters, now=NOW)
    scenario = scenario_run(scenario_id=scenario.pk, now=NOW)
    assert scenario.status == Scenario.Status.COMPLETED, scenario.error
    steps = list(ScenarioStep.objects.filter(scenario=scenario).order_by("interval_start"))
    assert len(steps) == 96
    assert steps[0].interval_start == DAY
    assert steps[-1].interval_start == DAY + timedelta(minutes=15 * 95)
    return scenario, steps


def violated(steps):
    return [i for i, s in enumerate(steps) if s.violation_count]


def test_heat_wave_raises_load_by_the_temperature_sensitivity_and_leaves_pv(network):
    _, plain = run(network, Scenario.Kind.CLOUDY_DAY, pv_factor=1.0)
    scenario, hot = run(network, Scenario.Kind.HEAT_WAVE, extra_c=8.0)

    # No forecasting estimate for these loads: the documented fallback, recorded with the run.
    assert scenario.parameters["sensitivity_source"] == "fallback"
    assert scenario.parameters["sensitivity_per_c"] == FALLBACK_TEMPERATURE_SENSITIVITY
    factor = shapes.heat_wave_factor(96, sensitivity_per_c=FALLBACK_TEMPERATURE_SENSITIVITY, extra_c=8.0)
    assert hot[AFTERNOON].load_mw == pytest.approx(plain[AFTERNOON].load_mw * factor[AFTERNOON], rel=1e-6)
    assert hot[AFTERNOON].load_mw > 1.15 * plain[AFTERNOON].load_mw
    assert hot[NOON].pv_mw == pytest.approx(plain[NOON].pv_mw)


def test_cloudy_day_lowers_pv_and_not_load(network):
    _, sunny = run(network, Scenario.Kind.CLOUDY_DAY, pv_factor=1.0)
    scenario, cloudy = run(network, Scenario.Kind.CLOUDY_DAY)

    assert scenario.parameters["pv_factor"] == 0.2
    assert sunny[NOON].pv_mw == pytest.approx(0.8, rel=1e-3)  # the PV bell peaks at noon
    assert cloudy[NOON].pv_mw == pytest.approx(0.2 * sunny[NOON].pv_mw)
    assert cloudy[NOON].load_mw == pytest.approx(sunny[NOON].load_mw)
    assert cloudy[0].pv_mw == 0.0


def test_outage_takes_a_ring_path_out_all_day_and_the_other_overloads_at_the_peak(network):
    _, intact = run(network, Scenario.Kind.CLOUDY_DAY, pv_factor=1.0, peak_load_mw=4.0)
    assert not violated(intact)

    scenario, steps = run(network, Scenario.Kind.OUTAGE, element="line:ring-a", peak_load_mw=4.0)

    assert scenario.parameters["element"] == "line:ring-a"
    bad = violated(steps)
    assert bad
    assert all(
        s.max_line_loading_percent > i.max_line_loading_percent for s, i in zip(steps, intact, strict=False)
    )
    peak = int(np.argmax([s.load_mw for s in steps]))
    assert peak in bad
    assert {v["element"] for v in steps[peak].violations} == {"line:ring-b"}
    assert steps[peak].violations[0]["kind"] == "overload"
    assert steps[peak].violations[0]["value"] > 1.0
    assert scenario.violation_steps == len(bad)
    plan = scenario.plan
    assert plan is not None
    assert plan.feasible
    assert plan.status == SheddingPlan.Status.PROPOSED
    assert plan.shed_mw > 0
    assert scenario.peak_shed_mw == pytest.approx(plan.shed_mw)
    assert plan.violations_after == 0


def test_maintenance_switches_the_element_out_only_in_its_window(network):
    scenario, steps = run(
        network,
        Scenario.Kind.MAINTENANCE,
        element="line:ring-b",
        start_hour=17.0,
        end_hour=20.0,
        peak_load_mw=4.0,
    )

    assert scenario.parameters["start_hour"] == 17.0
    assert scenario.parameters["end_hour"] == 20.0
    bad = violated(steps)
    assert bad
    assert all(68 <= i < 80 for i in bad)
    assert {v["element"] for i in bad for v in steps[i].violations} == {"line:ring-a"}
    # outside the window both paths share the load: at most about 70 % each
    assert max(steps[i].max_line_loading_percent for i in range(96) if not 68 <= i < 80) < 75


def test_evening_ramp_overloads_the_ring_as_pv_falls_and_gets_a_plan(network):
    _, plain = run(network, Scenario.Kind.CLOUDY_DAY, pv_factor=1.0, peak_load_mw=4.0)
    scenario, steps = run(network, Scenario.Kind.EVENING_RAMP, load_rise=1.0, peak_load_mw=4.0)

    assert scenario.parameters["load_rise"] == 1.0
    bad = violated(steps)
    assert bad
    assert min(bad) >= 60
    assert steps[76].pv_mw == 0.0
    assert steps[76].load_mw == pytest.approx(2 * plain[76].load_mw)
    assert steps[76].violation_count == 2  # both ring paths over their 0.09 kA
    assert scenario.plan is not None
    assert scenario.plan.feasible
    assert scenario.plan.violations_after == 0
    worst = max(range(96), key=lambda i: steps[i].violation_count)
    assert steps[worst].shed_mw == pytest.approx(scenario.plan.shed_mw)
