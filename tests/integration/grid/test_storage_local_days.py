"""Schedule days are the utility's local days: DST days have 92 or 100 quarter hours (46 or 50 half hours),
prices follow the local clock, and the terminal state of charge still holds."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone as django_timezone

from grid.models import ScheduleInterval
from grid.optimize.storage import Schedule, schedule_violations
from grid.services.balancing import price_signal_what_if
from grid.services.storage import (
    battery_asset_upsert,
    fleet_inputs,
    schedule_day_bounds,
    storage_schedule_day,
    storage_schedules_due,
)
from metering.services.readings import meter_point_create
from pricing.services.tariffs import tariff_create, tariff_version_publish

pytestmark = pytest.mark.django_db
SPRING = date(2026, 3, 29)  # Europe/London: 01:00 GMT -> 02:00 BST
AUTUMN = date(2026, 10, 25)  # Europe/London: 02:00 BST -> 01:00 GMT
NOW = datetime(2026, 3, 1, tzinfo=UTC)
PEAK = "0.3000"
OFF_PEAK = "0.1000"


@pytest.fixture
def tou_fleet(settings):
    settings.GRID_STORAGE_TIME_ZONE = "Europe/London"
    settings.GRID_STORAGE_STEP_MINUTES = 15
    hours = ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5  # peak 16:00-19:00 local
    tariff_create(code="TOU-LDN", name="London ToU")
    tariff_version_publish(
        tariff_code="TOU-LDN",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_to=None,
        document={
            "format": "tariff/v1",
            "currency": "GBP",
            "timezone": "Europe/London",
            "energy": {
                "kind": "tou",
                "rates_per_kwh": {"off_peak": OFF_PEAK, "peak": PEAK},
                "weekday": hours,
                "weekend": hours,
            },
        },
        now=django_timezone.now(),
    )
    for k in range(3):
        meter_point_create(identifier=f"MP-{k}", feeder_code="F1", has_pv=False)
        battery_asset_upsert(
            code=f"BAT-{k}",
            meter_point_identifier=f"MP-{k}",
            capacity_kwh=Decimal("10"),
            power_kw=Decimal("3"),
            soc_max_kwh=Decimal("9.5"),
            soc_min_kwh=Decimal("1"),
            soc_initial_kwh=Decimal("4"),
        )
    return "TOU-LDN"


@pytest.mark.parametrize(
    ("day", "hours", "steps", "first_peak_utc"),
    [
        (SPRING, 23, 92, datetime(2026, 3, 29, 15, tzinfo=UTC)),  # 16:00 BST
        (date(2026, 3, 30), 24, 96, datetime(2026, 3, 30, 15, tzinfo=UTC)),
        (AUTUMN, 25, 100, datetime(2026, 10, 25, 16, tzinfo=UTC)),  # 16:00 GMT
    ],
)
def test_a_local_day_has_its_own_number_of_quarter_hours_and_local_prices(
    tou_fleet, day, hours, steps, first_peak_utc
):
    start, end = schedule_day_bounds(day)
    assert end - start == timedelta(hours=hours)
    problem = fleet_inputs(tariff_code=tou_fleet, period_start=start, period_end=end).problem

    assert problem.intervals == steps
    assert problem.dt_h == 0.25
    peak = np.flatnonzero(problem.import_price == float(PEAK))
    assert len(peak) == 12  # three local hours
    assert problem.interval_starts[peak[0]] == first_peak_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert peak.tolist() == list(range(peak[0], peak[0] + 12))


@pytest.mark.parametrize(("day", "steps"), [(SPRING, 92), (AUTUMN, 100)])
def test_a_dst_day_schedule_is_feasible_and_ends_at_least_where_it_started(tou_fleet, day, steps):
    run = storage_schedule_day(tariff_code=tou_fleet, day=day, kind="day_ahead", now=NOW)

    assert run.status == "OPTIMAL"
    assert run.intervals == steps
    start, end = schedule_day_bounds(day)
    assert (run.period_start, run.period_end) == (start, end)
    rows = ScheduleInterval.objects.filter(run=run).order_by("asset__code", "interval_start")
    values = np.array(list(rows.values_list("charge_kw", "discharge_kw", "soc_kwh"))).reshape(3, steps, 3)
    problem = fleet_inputs(tariff_code=tou_fleet, period_start=start, period_end=end).problem
    stored = Schedule(values[:, :, 0], values[:, :, 1], values[:, :, 2], 0.0, "optimal")
    assert schedule_violations(problem, stored) == []
    assert (values[:, -1, 2] >= 4 - 1e-6).all()  # terminal state of charge >= initial
    # no load behind the meters: exporting at 0.05 never pays back an off-peak 0.10 import
    peak = np.flatnonzero(problem.import_price == float(PEAK))
    assert values[:, peak, 1].sum() == 0.0
    assert rows.first().interval_start == start
    assert rows.last().interval_start == end - timedelta(minutes=15)


def test_the_day_ahead_job_plans_the_next_local_day(tou_fleet):
    # 23:30 UTC on 28 March is still the 28th in London (GMT), so tomorrow is the 23-hour spring day
    runs = storage_schedules_due(
        tariff_code=tou_fleet, now=datetime(2026, 3, 28, 23, 30, tzinfo=UTC), mqtt_url=None
    )

    day_ahead = next(run for run in runs if run.kind == "DAY_AHEAD")
    assert day_ahead.intervals == 92
    assert day_ahead.period_start == datetime(2026, 3, 29, tzinfo=UTC)
    assert day_ahead.period_end == datetime(2026, 3, 29, 23, tzinfo=UTC)


def test_the_what_if_takes_one_band_per_local_half_hour(tou_fleet):
    from grid.services.balancing import UnableToBalance

    with pytest.raises(UnableToBalance, match="Give 50 bands"):
        price_signal_what_if(day=AUTUMN, bands=["Normal"] * 48, feeder_codes=["F1"])
    result = price_signal_what_if(day=AUTUMN, bands=["Normal"] * 50, feeder_codes=["F1"])
    assert len(result.starts) == 50
    assert result.starts[0] == datetime(2026, 10, 24, 23, tzinfo=UTC)  # local midnight, BST
