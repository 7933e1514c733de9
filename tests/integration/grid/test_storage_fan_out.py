"""A schedule run's subproblems solved by Celery workers as a chord: in-process (eager) and on a real worker
over Redis, with progress counted per subproblem and the same schedule as the in-process solve."""

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from grid.models import ScheduleInterval, ScheduleRun
from grid.optimize.storage import Schedule, schedule_violations
from grid.services.storage import battery_asset_upsert, feeder_limit_set, fleet_inputs, storage_schedule_run
from metering.services.readings import meter_point_create
from pricing.services.dynamic import announced_rates_publish
from tests.factories.pricing import announced, make_announced_dtou_tariff
from tests.workers import celery_worker

DAY = date(2013, 1, 15)
START = datetime(2013, 1, 15, tzinfo=UTC)
END = START + timedelta(days=1)
NOW = datetime(2013, 1, 14, 18, tzinfo=UTC)
UNITS = 6


def make_fleet() -> str:
    """Six batteries with PV: four on F1 (limited, so coupled), two on F2 (no limit)."""
    tariff = make_announced_dtou_tariff("DTOU")
    announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced(DAY), now=NOW)
    for k in range(UNITS):
        meter_point_create(identifier=f"MP-{k}", feeder_code="F1" if k < 4 else "F2", has_pv=True)
        battery_asset_upsert(
            code=f"BAT-{k}",
            meter_point_identifier=f"MP-{k}",
            capacity_kwh=Decimal("10"),
            power_kw=Decimal("3"),
            soc_max_kwh=Decimal("9.5"),
            soc_min_kwh=Decimal("1"),
            soc_initial_kwh=Decimal("5"),
            degradation_cost_per_kwh=Decimal("0.01"),
            pv_peak_kw=Decimal("3"),
        )
    feeder_limit_set(feeder_code="F1", import_limit_kw=Decimal("6"), export_limit_kw=Decimal("8"))
    return tariff


def stored_schedule(run: ScheduleRun) -> Schedule:
    rows = ScheduleInterval.objects.filter(run=run).order_by(
        "asset__meter_point__feeder_code", "asset__code", "interval_start"
    )
    values = np.array(list(rows.values_list("charge_kw", "discharge_kw", "soc_kwh"))).reshape(UNITS, 48, 3)
    return Schedule(values[:, :, 0], values[:, :, 1], values[:, :, 2], 0.0, "optimal")


@pytest.mark.django_db
def test_an_eager_chord_gives_the_same_schedule_as_the_in_process_solve(django_capture_on_commit_callbacks):
    tariff = make_fleet()
    direct = storage_schedule_run(
        tariff_code=tariff, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )

    with django_capture_on_commit_callbacks(execute=True):
        started = storage_schedule_run(
            tariff_code=tariff, period_start=START, period_end=END, kind="what_if", now=NOW, fan_out=True
        )
    assert started.status == "RUNNING"
    assert started.jobs_total == 2  # F1 jointly, F2's units in one block
    run = ScheduleRun.objects.get(pk=started.pk)

    assert run.status == "OPTIMAL", run.message
    assert run.jobs_done == run.jobs_total == 2
    assert run.feeders_coupled == direct.feeders_coupled == ["F1"]
    assert float(run.objective) == pytest.approx(float(direct.objective), abs=1e-3)
    problem = fleet_inputs(tariff_code=tariff, period_start=START, period_end=END).problem
    assert schedule_violations(problem, stored_schedule(run)) == []
    assert run.self_consumption_with_pct == pytest.approx(direct.self_consumption_with_pct)


@pytest.mark.django_db
def test_limits_that_cannot_be_met_make_the_run_infeasible_with_its_feeder(
    django_capture_on_commit_callbacks,
):
    tariff = make_fleet()
    feeder_limit_set(feeder_code="F1", import_limit_kw=Decimal("0"), export_limit_kw=Decimal("0"))

    with django_capture_on_commit_callbacks(execute=True):
        run = storage_schedule_run(
            tariff_code=tariff, period_start=START, period_end=END, kind="what_if", now=NOW, fan_out=True
        )
    run.refresh_from_db()

    assert run.status == "INFEASIBLE"
    assert run.message.startswith("feeder F1: the limits cannot be met over the day")
    assert not ScheduleInterval.objects.filter(run=run).exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_solves_the_subproblems_from_redis_and_reports_progress():
    tariff = make_fleet()

    with celery_worker() as (queue, worker):
        run = storage_schedule_run(
            tariff_code=tariff,
            period_start=START,
            period_end=END,
            kind="what_if",
            now=NOW,
            fan_out=True,
            queue=queue,
        )
        assert run.status == "RUNNING"
        seen = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run.refresh_from_db()
            seen.add(run.jobs_done)
            if run.status != "RUNNING":
                break
            time.sleep(0.1)
        assert worker.poll() is None

    assert run.status == "OPTIMAL", run.message
    assert run.jobs_done == run.jobs_total == 2
    assert max(seen) == 2
    assert ScheduleInterval.objects.filter(run=run).count() == UNITS * 48
    problem = fleet_inputs(tariff_code=tariff, period_start=START, period_end=END).problem
    assert schedule_violations(problem, stored_schedule(run)) == []
    assert run.feeders_coupled == ["F1"]
