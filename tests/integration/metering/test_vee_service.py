"""`vee_run` against stored readings: estimates and their values, data issues, idempotency, an actual
replacing an estimate, gaps without history, spikes and stuck registers, and the Celery task."""

import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from metering import vee
from metering.models import DataIssue, Quality, Reading, ReadingRevision, Source
from metering.services.meters import meter_install, meter_point_create
from metering.services.readings import ReadingInput, readings_from_inputs, readings_ingest
from metering.services.vee import vee_run
from metering.tasks.vee import vee_run_task

pytestmark = pytest.mark.django_db

DAY = datetime(2024, 6, 10, tzinfo=UTC)  # a Monday in BST: local weekday and slot repeat every 7 UTC days
NEXT_DAY = DAY + timedelta(days=1)
AS_OF = NEXT_DAY + timedelta(hours=6)
NOW = datetime(2024, 6, 12, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
WEEK_OFFSET_E4 = {7: 0, 14: 100, 21: 200, 28: 401}  # mean 175.25 → the profile adds 175


def make_meter(serial: str, *, installed_at: datetime = datetime(2024, 4, 1, tzinfo=UTC)):
    point = meter_point_create(identifier=f"MP-{serial}", feeder_code="F1", region_code="R1")
    return meter_install(meter_point_identifier=point.identifier, serial=serial, installed_at=installed_at)


def ingest(meter, values: dict[datetime, int], *, now: datetime = NOW, quality: int = Quality.ACTUAL):
    """Write {interval start: kWh × 10^4} through the ingest service."""
    readings = [
        ReadingInput(start, start + HALF_HOUR, Decimal(value) / 10_000)
        for start, value in sorted(values.items())
    ]
    return readings_ingest(
        readings=readings_from_inputs(meter.pk, readings), source=Source.GRAPHQL, now=now, quality=quality
    )


def history(days: int = 28) -> dict[datetime, int]:
    """Four weeks before DAY: slot j of the day d days back holds 1000 + 10 j (+ a weekly offset on the
    same weekday as DAY); values never repeat in consecutive intervals."""
    values = {}
    for d in range(1, days + 1):
        for j in range(48):
            offset = WEEK_OFFSET_E4.get(d, 50 + (j * 37 + d * 11) % 97)
            values[DAY - timedelta(days=d) + j * HALF_HOUR] = 1000 + 10 * j + offset
    return values


def day_values(day: datetime = DAY, skip=()) -> dict[datetime, int]:
    return {day + j * HALF_HOUR: 2000 + 100 * j for j in range(48) if j not in skip}


def stored(meter) -> list[tuple]:
    return list(
        Reading.objects.filter(meter=meter)
        .order_by("interval_start")
        .values_list("interval_start", "energy_kwh", "quality", "source", "received_at", "revised_at")
    )


def kwh_at(meter, start: datetime) -> tuple[Decimal, int]:
    reading = Reading.objects.get(meter=meter, interval_start=start)
    return reading.energy_kwh, reading.quality


@pytest.fixture
def meter_with_two_gaps():
    """Cells 6-8 (3 intervals) and 24-31 (8 intervals) of DAY missing; the ones around the short gap set."""
    meter = make_meter("VEE-1")
    values = {**history(), **day_values(skip=(6, 7, 8, *range(24, 32)))}
    values[DAY + 5 * HALF_HOUR] = 2500
    values[DAY + 9 * HALF_HOUR] = 3301
    ingest(meter, values)
    return meter


def test_vee_estimates_a_short_gap_by_interpolation_and_a_long_one_from_the_weekday_profile(
    meter_with_two_gaps,
):
    meter = meter_with_two_gaps

    report = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)

    assert (report.meters_checked, report.gaps_found, report.gap_intervals) == (1, 2, 11)
    assert (report.intervals_estimated, report.intervals_unestimated) == (11, 0)
    assert (report.spikes, report.stuck_runs, report.issues_created) == (0, 0, 2)
    # 0.2500 → 0.3301 over 4 steps: 0.270025, 0.29005, 0.310075, half up to 4 decimals
    short = [kwh_at(meter, DAY + j * HALF_HOUR) for j in (6, 7, 8)]
    assert short == [(Decimal(v), Quality.ESTIMATED) for v in ("0.2700", "0.2901", "0.3101")]
    # mean over weeks 1-4 of 1000 + 10 j + (0, 100, 200, 401) = 1175.25 + 10 j → 0.1175 + 0.0010 j
    long = [kwh_at(meter, DAY + j * HALF_HOUR) for j in range(24, 32)]
    assert long == [(Decimal(1175 + 10 * j) / 10_000, Quality.ESTIMATED) for j in range(24, 32)]
    assert Reading.objects.filter(meter=meter, source=Source.ESTIMATION).count() == 11
    issues = list(
        DataIssue.objects.order_by("starts_at").values_list("kind", "starts_at", "ends_at", "estimated")
    )
    assert issues == [
        (DataIssue.Kind.GAP, DAY + 6 * HALF_HOUR, DAY + 9 * HALF_HOUR, True),
        (DataIssue.Kind.GAP, DAY + 24 * HALF_HOUR, DAY + 32 * HALF_HOUR, True),
    ]
    details = list(DataIssue.objects.order_by("starts_at").values_list("detail", flat=True))
    assert details == [
        "3 intervals missing; estimated by linear interpolation",
        "8 intervals missing; estimated from the same local weekday and slot over the previous 4 weeks",
    ]


def test_vee_run_twice_creates_and_changes_nothing(meter_with_two_gaps):
    vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)
    readings_before = stored(meter_with_two_gaps)
    issues_before = list(DataIssue.objects.order_by("id").values())

    again = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF + timedelta(hours=1))

    assert (again.gaps_found, again.intervals_estimated, again.issues_created, again.issues_updated) == (
        0,
        0,
        0,
        0,
    )
    assert stored(meter_with_two_gaps) == readings_before
    assert list(DataIssue.objects.order_by("id").values()) == issues_before
    assert not ReadingRevision.objects.exists()


def test_an_actual_arriving_later_replaces_the_estimate_and_the_history_keeps_it(meter_with_two_gaps):
    vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)
    late = NOW + timedelta(hours=3)

    result = ingest(meter_with_two_gaps, {DAY + 7 * HALF_HOUR: 4242}, now=late)

    assert (result.accepted, result.revised) == (1, 1)
    assert kwh_at(meter_with_two_gaps, DAY + 7 * HALF_HOUR) == (Decimal("0.4242"), Quality.ACTUAL)
    [old] = ReadingRevision.objects.all()
    assert (old.interval_start, old.energy_kwh, old.quality, old.source, old.superseded_at) == (
        DAY + 7 * HALF_HOUR,
        Decimal("0.2901"),
        Quality.ESTIMATED,
        Source.ESTIMATION,
        late,
    )
    again = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)
    assert (again.intervals_estimated, again.issues_created) == (0, 0)
    assert kwh_at(meter_with_two_gaps, DAY + 7 * HALF_HOUR) == (Decimal("0.4242"), Quality.ACTUAL)


def test_an_estimate_never_replaces_an_actual_that_arrived_first(meter_with_two_gaps):
    ingest(meter_with_two_gaps, {DAY + 7 * HALF_HOUR: 4242})

    report = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)

    assert report.intervals_estimated == 10  # cells 6 and 8 are now single gaps, interpolated
    assert kwh_at(meter_with_two_gaps, DAY + 7 * HALF_HOUR) == (Decimal("0.4242"), Quality.ACTUAL)


def test_a_gap_without_history_is_left_unestimated_and_says_so():
    meter = make_meter("VEE-NEW", installed_at=DAY)
    ingest(meter, day_values(skip=range(10, 20)))
    before = Reading.objects.filter(meter=meter).count()

    report = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)

    assert (report.gaps_found, report.intervals_estimated, report.intervals_unestimated) == (1, 0, 10)
    assert Reading.objects.filter(meter=meter).count() == before  # no zeros written
    [issue] = DataIssue.objects.all()
    assert (issue.kind, issue.starts_at, issue.ends_at, issue.estimated) == (
        DataIssue.Kind.GAP,
        DAY + 10 * HALF_HOUR,
        DAY + 20 * HALF_HOUR,
        False,
    )
    assert issue.detail == "10 intervals missing; not estimated: no history"


def test_a_gap_continuing_into_the_next_period_extends_its_issue():
    meter = make_meter("VEE-OUT", installed_at=DAY)
    ingest(meter, {**day_values(skip=range(40, 48)), **day_values(NEXT_DAY, skip=range(8))})
    vee_run(period_start=DAY, period_end=NEXT_DAY + timedelta(days=1), as_of=NOW)

    report = vee_run(period_start=NEXT_DAY, period_end=NEXT_DAY + timedelta(days=1), as_of=NOW)

    assert (report.gaps_found, report.issues_created, report.issues_updated) == (1, 0, 0)
    [issue] = DataIssue.objects.all()
    assert (issue.starts_at, issue.ends_at, issue.estimated) == (
        DAY + 40 * HALF_HOUR,
        NEXT_DAY + 8 * HALF_HOUR,
        False,
    )


def test_spikes_and_stuck_registers_are_flagged_once_and_left_unchanged():
    meter = make_meter("VEE-FLAGS")
    values = {**history(), **day_values()}
    values[DAY + 20 * HALF_HOUR] = 50_000  # 5 kWh: far above 10 × the median (~0.13 kWh) and 1 kWh
    for j in range(36, 48):
        values[DAY + j * HALF_HOUR] = 4321  # 12 equal non-zero readings
    ingest(meter, values)
    readings_before = stored(meter)

    first = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)
    second = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)

    assert (first.spikes, first.stuck_runs, first.issues_created) == (1, 1, 2)
    assert (second.spikes, second.stuck_runs, second.issues_created, second.issues_updated) == (1, 1, 0, 0)
    issues = list(DataIssue.objects.order_by("starts_at").values_list("kind", "starts_at", "ends_at"))
    assert issues == [
        (DataIssue.Kind.SPIKE, DAY + 20 * HALF_HOUR, DAY + 21 * HALF_HOUR),
        (DataIssue.Kind.STUCK, DAY + 36 * HALF_HOUR, NEXT_DAY),
    ]
    threshold = max(10 * Decimal(statistics.median(history().values())) / 10_000, Decimal(1))
    assert DataIssue.objects.get(kind=DataIssue.Kind.SPIKE).detail == (
        f"5.0000 kWh is above the spike threshold {threshold:.4f} kWh "
        "(the greater of 10 × the 28-day median and 1.0000 kWh)"
    )
    assert DataIssue.objects.get(kind=DataIssue.Kind.STUCK).detail == (
        "0.4321 kWh repeated for 12 consecutive intervals"
    )
    assert stored(meter) == readings_before  # flags only


def test_meters_are_processed_in_chunks_and_can_be_selected():
    one = make_meter("VEE-A", installed_at=DAY)
    two = make_meter("VEE-B", installed_at=DAY)
    three = make_meter("VEE-C", installed_at=DAY)
    for meter in (one, two, three):
        ingest(meter, day_values(skip=(10,)))

    report = vee_run(
        period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF, meter_ids=[one.pk, three.pk], chunk_meters=1
    )

    assert (report.meters_checked, report.gaps_found, report.intervals_estimated) == (2, 2, 2)
    estimated = Reading.objects.filter(quality=Quality.ESTIMATED)
    assert sorted(estimated.values_list("meter_id", "energy_kwh")) == [
        (one.pk, Decimal("0.3000")),
        (three.pk, Decimal("0.3000")),
    ]


def test_the_pure_module_mirrors_the_quality_codes():
    assert vee.QUALITY_ACTUAL == Quality.ACTUAL


def test_the_vee_task_runs_yesterday_and_today_up_to_now(monkeypatch):
    meter = make_meter("VEE-TASK", installed_at=DAY)
    values = {**day_values(), **{NEXT_DAY + j * HALF_HOUR: 500 + j for j in range(12)}}
    del values[NEXT_DAY + 3 * HALF_HOUR], values[NEXT_DAY + 4 * HALF_HOUR]
    ingest(meter, values)
    monkeypatch.setattr(timezone, "now", lambda: NEXT_DAY + timedelta(hours=6, minutes=10))

    report = vee_run_task.delay(period_days=2).get()

    assert (report["meters_checked"], report["gaps_found"], report["intervals_estimated"]) == (1, 1, 2)
    # 0.0502 → 0.0505 over 3 steps
    assert kwh_at(meter, NEXT_DAY + 3 * HALF_HOUR) == (Decimal("0.0503"), Quality.ESTIMATED)
    assert kwh_at(meter, NEXT_DAY + 4 * HALF_HOUR) == (Decimal("0.0504"), Quality.ESTIMATED)


def test_meters_of_other_zones_and_resolutions_are_judged_on_their_own_local_grids():
    london = make_meter("VEE-LON", installed_at=DAY)
    point = meter_point_create(
        identifier="MP-VEE-IN", timezone="Asia/Kolkata", feeder_code="F9", region_code="R9"
    )
    kolkata = meter_install(
        meter_point_identifier=point.identifier, serial="VEE-IN", installed_at=DAY, resolution_minutes=60
    )
    ingest(london, day_values(skip=(20,)))
    hour = timedelta(hours=1)
    starts = [DAY + timedelta(minutes=30) + h * hour for h in range(24)]  # local hours at UTC +5:30
    readings = [ReadingInput(s, s + hour, Decimal(100 + h) / 1000) for h, s in enumerate(starts) if h != 5]
    readings_ingest(readings=readings_from_inputs(kolkata.pk, readings), source=Source.GRAPHQL, now=NOW)

    report = vee_run(period_start=DAY, period_end=NEXT_DAY, as_of=AS_OF)

    assert (report.meters_checked, report.gaps_found, report.intervals_estimated) == (2, 2, 2)
    assert kwh_at(london, DAY + 20 * HALF_HOUR) == (Decimal("0.4000"), Quality.ESTIMATED)
    estimate = Reading.objects.get(meter=kolkata, quality=Quality.ESTIMATED)
    assert (estimate.interval_start, estimate.interval_end, estimate.energy_kwh) == (
        starts[5],
        starts[5] + hour,
        Decimal("0.1050"),
    )
