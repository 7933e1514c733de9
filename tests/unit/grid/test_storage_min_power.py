"""Minimum-power rules: a device that, when on, charges or discharges at least `min_power_kw`; binaries only
for such devices, the LP solution as incumbent and fallback."""

from dataclasses import replace

import numpy as np
import pytest

from grid.optimize.storage import (
    Fleet,
    StorageProblem,
    StorageProblemError,
    joint_pulp_solve,
    schedule_optimize,
    schedule_violations,
)


def one_unit(min_power_kw: float, *, units: int = 1) -> StorageProblem:
    """Four hours: cheap (0.1) then dear (0.5) imports, exports worth nothing, 1 kW of load in the dear hours.

    Without the rule the battery buys 2 kWh and discharges 1 kW in each dear hour: cost 0.20. With a 2 kW
    minimum it cannot discharge 1 kW: it buys 4 kWh and discharges 2 kW in each dear hour (exporting 1 kW for
    nothing): cost 0.40; discharging in one dear hour only would cost 0.2 + 0.5 = 0.70."""
    fleet = Fleet(
        units=[f"U{k}" for k in range(units)],
        feeders=["F"] * units,
        capacity_kwh=np.full(units, 10.0),
        power_kw=np.full(units, 5.0),
        efficiency_charge=np.ones(units),
        efficiency_discharge=np.ones(units),
        soc_min_kwh=np.zeros(units),
        soc_max_kwh=np.full(units, 10.0),
        soc_initial_kwh=np.zeros(units),
        degradation_cost_per_kwh=np.zeros(units),
        min_power_kw=np.full(units, min_power_kw),
    )
    return StorageProblem(
        fleet=fleet,
        dt_h=1.0,
        import_price=np.array([0.1, 0.1, 0.5, 0.5]),
        export_price=np.zeros(4),
        pv_kw=np.zeros((units, 4)),
        load_kw=np.tile([0.0, 0.0, 1.0, 1.0], (units, 1)),
    )


def test_without_a_minimum_the_lp_discharges_exactly_the_load():
    schedule = schedule_optimize(one_unit(0.0), workers=1)

    assert schedule.objective == pytest.approx(0.20, abs=1e-6)
    assert schedule.discharge_kw[0, 2:].tolist() == pytest.approx([1.0, 1.0])


def test_a_minimum_power_gives_the_known_mixed_integer_optimum():
    problem = one_unit(2.0)

    schedule = schedule_optimize(problem, workers=1)

    assert schedule.status == "optimal"
    assert schedule.objective == pytest.approx(0.40, abs=1e-6)
    assert schedule.discharge_kw[0, 2:].tolist() == pytest.approx([2.0, 2.0])
    assert schedule_violations(problem, schedule) == []
    # the PuLP reference model with the same binaries agrees
    assert joint_pulp_solve(problem).objective == pytest.approx(0.40, abs=1e-6)


def test_the_checker_names_a_set_point_below_the_minimum():
    problem = one_unit(2.0)
    lp_schedule = schedule_optimize(one_unit(0.0), workers=1)

    assert any("discharges below its minimum power" in v for v in schedule_violations(problem, lp_schedule))


def test_only_units_with_a_rule_get_binaries_and_a_mixed_fleet_stays_feasible():
    problem = one_unit(2.0, units=3)
    problem = replace(problem, fleet=replace(problem.fleet, min_power_kw=np.array([2.0, 0.0, 0.0])))

    schedule = schedule_optimize(problem, workers=1)

    assert schedule_violations(problem, schedule) == []
    assert schedule.objective == pytest.approx(0.40 + 0.20 + 0.20, abs=1e-6)
    assert schedule.discharge_kw[1, 2:].tolist() == pytest.approx([1.0, 1.0])  # LP unit, no rule


def test_a_mip_stopped_before_any_solution_falls_back_to_a_feasible_schedule():
    problem = one_unit(2.0, units=2)

    schedule = schedule_optimize(problem, workers=1, milp_time_limit=1e-9)

    assert schedule.status == "time_limit"
    assert schedule_violations(problem, schedule) == []
    # the exclusive LP solution breaks the minimum, so the units idle: both dear hours imported
    assert schedule.objective == pytest.approx(2 * (0.5 + 0.5))


def test_a_minimum_above_the_power_names_the_unit_and_field():
    with pytest.raises(StorageProblemError, match="unit U0: min_power_kw"):
        schedule_optimize(one_unit(6.0), workers=1)
