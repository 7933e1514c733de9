"""The fleet optimiser: every schedule checked independently of the solver, against the joint optimum."""

import numpy as np
import pytest

from grid.optimize.storage import (
    Fleet,
    Schedule,
    ScheduleInfeasible,
    StorageProblem,
    StorageProblemError,
    joint_pulp_solve,
    schedule_cost,
    schedule_optimize,
    schedule_violations,
    self_consumption_pct,
)
from grid.optimize.synthetic import synthetic_problem, tou_prices


def negative_midday_prices():
    import_price, export_price = tou_prices(96)
    import_price, export_price = import_price.copy(), export_price.copy()
    import_price[36:64] = -0.2
    export_price[36:64] = -0.3
    return import_price, export_price


def test_a_schedule_without_feeder_limits_is_feasible_and_beats_doing_nothing():
    problem = synthetic_problem(6, units_per_feeder=3, limit_fraction=None)

    schedule = schedule_optimize(problem, workers=1)

    assert schedule_violations(problem, schedule) == []
    idle = Schedule(
        np.zeros_like(problem.pv_kw),
        np.zeros_like(problem.pv_kw),
        np.repeat(problem.fleet.soc_initial_kwh[:, None], problem.intervals, axis=1),
        0.0,
        "optimal",
    )
    assert schedule_violations(problem, idle) == []
    assert schedule.objective < schedule_cost(problem, idle) - 1.0
    assert schedule.feeders_coupled == []


@pytest.mark.slow
def test_the_feeder_decomposition_matches_the_joint_optimum_of_a_100_unit_fleet():
    problem = synthetic_problem(100, units_per_feeder=50, limit_fraction=0.8)

    decomposed = schedule_optimize(problem, workers=2)
    joint = joint_pulp_solve(problem)

    assert schedule_violations(problem, decomposed) == []
    assert schedule_violations(problem, joint) == []
    assert decomposed.feeders_coupled  # the limits bind, so the units really are coupled
    assert abs(decomposed.objective - joint.objective) <= 1e-3 * abs(joint.objective)


def test_binding_feeder_limits_hold_in_every_interval():
    problem = synthetic_problem(12, units_per_feeder=6, limit_fraction=0.7)

    schedule = schedule_optimize(problem, workers=1)

    feeders = np.asarray(problem.fleet.feeders)
    net = problem.load_kw - problem.pv_kw + schedule.charge_kw - schedule.discharge_kw
    for feeder, (import_limit, export_limit) in problem.feeder_limits.items():
        total = net[feeders == feeder].sum(axis=0)
        assert total.max() <= import_limit
        assert total.min() >= -export_limit
    assert schedule.feeders_coupled == sorted(problem.feeder_limits)


def test_negative_prices_use_binaries_so_no_unit_charges_and_discharges_at_once():
    import_price, export_price = negative_midday_prices()
    problem = synthetic_problem(
        2, units_per_feeder=2, import_price=import_price, export_price=export_price, limit_fraction=None
    )

    relaxed = joint_pulp_solve(problem, binaries=False)
    schedule = schedule_optimize(problem, workers=1)

    # the LP alone would burn energy by charging and discharging at once
    assert any("at once" in v for v in schedule_violations(problem, relaxed))
    assert schedule_violations(problem, schedule) == []
    assert not np.any((schedule.charge_kw > 1e-6) & (schedule.discharge_kw > 1e-6))
    assert schedule.objective >= relaxed.objective - 1e-6


def test_negative_prices_with_a_binding_feeder_limit_stay_exclusive_and_within_limits():
    import_price, export_price = negative_midday_prices()
    problem = synthetic_problem(
        2, units_per_feeder=2, import_price=import_price, export_price=export_price, limit_fraction=0.9
    )

    schedule = schedule_optimize(problem, workers=1, milp_time_limit=10)

    assert schedule_violations(problem, schedule) == []


def two_units_on_a_constant_load(import_limit_kw: float) -> StorageProblem:
    steps = 24
    fleet = Fleet(
        units=["A", "B"],
        feeders=["F1", "F1"],
        capacity_kwh=np.array([10.0, 10.0]),
        power_kw=np.array([2.5, 2.5]),
        efficiency_charge=np.array([0.95, 0.95]),
        efficiency_discharge=np.array([0.95, 0.95]),
        soc_min_kwh=np.array([0.0, 0.0]),
        soc_max_kwh=np.array([10.0, 10.0]),
        soc_initial_kwh=np.array([5.0, 5.0]),
        degradation_cost_per_kwh=np.array([0.0, 0.0]),
    )
    return StorageProblem(
        fleet=fleet,
        dt_h=1.0,
        import_price=np.full(steps, 0.2),
        export_price=np.full(steps, 0.05),
        pv_kw=np.zeros((2, steps)),
        load_kw=np.full((2, steps), 3.0),
        feeder_limits={"F1": (import_limit_kw, 10.0)},
    )


def test_a_limit_no_battery_power_can_meet_is_reported_with_feeder_and_interval():
    problem = two_units_on_a_constant_load(0.5)

    with pytest.raises(
        ScheduleInfeasible, match=r"feeder F1: interval 0: .* 1.000 kW .*above the import limit 0.5 kW"
    ):
        schedule_optimize(problem, workers=1)


def test_a_limit_the_batteries_lack_the_energy_for_is_reported_for_its_feeder():
    problem = two_units_on_a_constant_load(1.5)

    with pytest.raises(ScheduleInfeasible, match="feeder F1: the limits cannot be met over the day"):
        schedule_optimize(problem, workers=1)


def test_inconsistent_battery_parameters_name_the_unit_and_field():
    problem = synthetic_problem(3, limit_fraction=None)
    problem.fleet.soc_initial_kwh[1] = problem.fleet.capacity_kwh[1] + 1

    with pytest.raises(StorageProblemError, match="unit U00001: soc_initial_kwh"):
        schedule_optimize(problem, workers=1)


def test_storage_raises_pv_self_consumption():
    problem = synthetic_problem(5, limit_fraction=None)

    schedule = schedule_optimize(problem, workers=1)

    assert self_consumption_pct(problem, schedule) > self_consumption_pct(problem, None) + 10
