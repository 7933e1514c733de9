"""Ingest semantics: duplicates, revisions, shuffled delivery, every rejection with nothing written, DST."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from metering.models import AggregateDirty, Quality, Reading, ReadingRevision
from metering.selectors.readings import reading_series
from metering.services.readings import ReadingInput
from tests.factories.metering import NOW, half_hours, ingest, make_meter

pytestmark = pytest.mark.django_db
DAY = datetime(2024, 1, 15, tzinfo=UTC)


def stored(meter) -> list[tuple]:
    return list(
        Reading.objects.filter(meter=meter)
        .order_by("interval_start")
        .values_list("interval_start", "interval_end", "energy_kwh", "quality")
    )


def test_new_readings_are_accepted_with_exact_values_and_marked_for_aggregation():
    meter = make_meter("M-1")

    result = ingest(meter, half_hours(DAY, 3, ["0.1234", "1.5", "0"]))

    assert (result.accepted, result.duplicates, result.rejected_count) == (3, 0, 0)
    assert [r[2] for r in stored(meter)] == [Decimal("0.1234"), Decimal("1.5000"), Decimal("0.0000")]
    assert AggregateDirty.objects.filter(feeder_code="F1", region_code="R1").count() == 3


def test_the_same_readings_again_are_duplicates_and_change_nothing():
    meter = make_meter("M-1")
    ingest(meter, half_hours(DAY, 48))
    before = stored(meter)

    again = ingest(meter, half_hours(DAY, 48), now=NOW + timedelta(days=1))

    assert (again.accepted, again.duplicates, again.revised) == (0, 48, 0)
    assert stored(meter) == before
    assert not ReadingRevision.objects.exists()
    assert Reading.objects.filter(received_at=NOW).count() == 48  # receipt time unchanged


def test_a_different_value_is_a_revision_and_the_history_stays():
    meter = make_meter("M-1")
    ingest(meter, half_hours(DAY, 2, "0.2000"))
    later = NOW + timedelta(hours=5)

    result = ingest(meter, half_hours(DAY, 1, "0.2500"), now=later)

    assert (result.accepted, result.revised, result.duplicates) == (1, 1, 0)
    reading = Reading.objects.get(meter=meter, interval_start=DAY)
    assert (reading.energy_kwh, reading.revised_at) == (Decimal("0.2500"), later)
    [old] = ReadingRevision.objects.all()
    assert (old.energy_kwh, old.interval_start, old.superseded_at) == (Decimal("0.2000"), DAY, later)


def test_an_estimate_never_replaces_an_actual_but_an_actual_replaces_an_estimate():
    meter = make_meter("M-1")
    ingest(meter, half_hours(DAY, 1, "0.3000"))
    ingest(meter, half_hours(DAY + timedelta(minutes=30), 1, "0.1000"), quality=Quality.ESTIMATED)

    estimate_over_actual = ingest(meter, half_hours(DAY, 1, "0.9000"), quality=Quality.ESTIMATED)
    actual_over_estimate = ingest(meter, half_hours(DAY + timedelta(minutes=30), 1, "0.1500"))

    assert (estimate_over_actual.accepted, estimate_over_actual.duplicates) == (0, 1)
    assert (actual_over_estimate.accepted, actual_over_estimate.revised) == (1, 1)
    assert [(r[2], r[3]) for r in stored(meter)] == [
        (Decimal("0.3000"), Quality.ACTUAL),
        (Decimal("0.1500"), Quality.ACTUAL),
    ]
    assert ReadingRevision.objects.get().quality == Quality.ESTIMATED


def test_shuffled_delivery_in_any_batches_gives_identical_stored_data():
    readings = half_hours(DAY, 96, [f"0.{i:04d}" for i in range(96)])
    first, second = make_meter("M-A"), make_meter("M-B")
    ingest(first, readings)

    shuffled = readings + readings[:10]  # with repeats
    random.Random(7).shuffle(shuffled)
    for at in range(0, len(shuffled), 17):
        ingest(second, shuffled[at : at + 17])

    assert stored(first) == stored(second)


@pytest.mark.parametrize(
    ("reading", "code", "field"),
    [
        (ReadingInput(DAY, DAY + timedelta(minutes=30), Decimal("-0.1")), "negative_energy", "kwh"),
        (ReadingInput(DAY, DAY + timedelta(minutes=30), Decimal("NaN")), "invalid_number", "kwh"),
        (ReadingInput(DAY, DAY + timedelta(minutes=30), Decimal("Infinity")), "invalid_number", "kwh"),
        (ReadingInput(DAY, DAY + timedelta(minutes=30), Decimal("0.12345")), "too_precise", "kwh"),
        (ReadingInput(DAY, DAY + timedelta(minutes=30), Decimal("60")), "implausible_energy", "kwh"),
        (ReadingInput(DAY, DAY, Decimal("0.1")), "empty_interval", "intervalEnd"),
        (ReadingInput(DAY, DAY - timedelta(minutes=30), Decimal("0.1")), "empty_interval", "intervalEnd"),
        (
            ReadingInput(DAY, DAY + timedelta(minutes=60), Decimal("0.1")),
            "wrong_interval_length",
            "intervalEnd",
        ),
        (
            ReadingInput(DAY + timedelta(minutes=15), DAY + timedelta(minutes=45), Decimal("0.1")),
            "misaligned_interval",
            "intervalStart",
        ),
        (
            ReadingInput(NOW, NOW + timedelta(minutes=30), Decimal("0.1")),
            "future_interval",
            "intervalEnd",
        ),
        (
            ReadingInput(
                datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, 0, 30, tzinfo=UTC), Decimal("1")
            ),
            "meter_not_installed",
            "intervalStart",
        ),
        (
            ReadingInput(datetime(2024, 1, 15), datetime(2024, 1, 15, 0, 30), Decimal("0.1")),  # noqa: DTZ001
            "invalid_timestamp",
            "intervalStart",
        ),
    ],
)
def test_bad_readings_are_rejected_with_their_field_and_nothing_is_written(reading, code, field):
    meter = make_meter("M-1")

    result = ingest(meter, [half_hours(DAY + timedelta(days=1), 1)[0], reading])

    assert result.accepted == 1
    assert result.rejected == [
        {"index": 1, "code": code, "field": field, "message": result.rejected[0]["message"]}
    ]
    assert result.rejected[0]["message"]
    assert Reading.objects.count() == 1
    assert not Reading.objects.filter(interval_start=reading.interval_start.replace(tzinfo=UTC)).exists()


def test_two_different_values_for_one_interval_in_one_batch_are_both_rejected():
    meter = make_meter("M-1")

    result = ingest(meter, half_hours(DAY, 1, "0.1") + half_hours(DAY, 1, "0.2") + half_hours(DAY, 1, "0.1"))

    assert result.rejected_count == 3
    assert {r["code"] for r in result.rejected} == {"conflict_in_batch"}
    assert not Reading.objects.exists()


def test_an_unknown_meter_is_rejected():
    from metering.models import Source
    from metering.services.readings import readings_ingest_for_meter

    result = readings_ingest_for_meter(
        meter_serial="NOPE", readings=half_hours(DAY, 2), source=Source.GRAPHQL, now=NOW
    )

    assert [r["code"] for r in result.rejected] == ["unknown_meter", "unknown_meter"]
    assert not Reading.objects.exists()


def test_all_or_nothing_writes_nothing_when_one_reading_is_bad():
    meter = make_meter("M-1")
    readings = half_hours(DAY, 3)
    readings[1] = ReadingInput(readings[1].interval_start, readings[1].interval_end, Decimal("-1"))

    result = ingest(meter, readings, all_or_nothing=True)

    assert (result.accepted, result.rejected_count) == (0, 1)
    assert not Reading.objects.exists()


@pytest.mark.parametrize(
    ("zone", "day", "intervals"),
    [
        ("Europe/London", (2024, 3, 31), 46),
        ("Europe/London", (2024, 10, 27), 50),
        ("America/Chicago", (2024, 3, 10), 46),
        ("America/Chicago", (2024, 11, 3), 50),
    ],
)
def test_a_dst_day_has_46_or_50_half_hours_and_nothing_is_lost_or_doubled(zone, day, intervals):
    meter = make_meter("M-DST", timezone=zone)
    local_midnight = datetime(*day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    next_midnight = datetime(*day, tzinfo=ZoneInfo(zone)) + timedelta(days=1)
    next_midnight = datetime(
        next_midnight.year, next_midnight.month, next_midnight.day, tzinfo=ZoneInfo(zone)
    )
    count = int((next_midnight.astimezone(UTC) - local_midnight).total_seconds() // 1800)
    readings = half_hours(local_midnight - timedelta(hours=2), count + 8, "0.0100")

    result = ingest(meter, readings)

    assert count == intervals
    assert result.accepted == count + 8
    [day_bucket] = reading_series(
        meter_point=meter.meter_point,
        period_from=local_midnight,
        period_to=next_midnight.astimezone(UTC),
        group_by="DAY",
    )
    assert (day_bucket.reading_count, day_bucket.kwh) == (intervals, Decimal("0.0100") * intervals)
    hours = reading_series(
        meter_point=meter.meter_point,
        period_from=local_midnight,
        period_to=next_midnight.astimezone(UTC),
        group_by="HOUR",
    )
    assert len(hours) == intervals // 2
    assert all(h.reading_count == 2 for h in hours)


def test_monthly_groups_follow_local_months():
    meter = make_meter("M-MONTH", timezone="Europe/Berlin")
    start = datetime(2024, 1, 31, 22, 0, tzinfo=UTC)  # 23:00 local on 31 January
    ingest(meter, half_hours(start, 4, "1.0000"))  # 23:00, 23:30 in January; 00:00, 00:30 in February

    months = reading_series(
        meter_point=meter.meter_point,
        period_from=datetime(2024, 1, 1, tzinfo=UTC),
        period_to=datetime(2024, 3, 1, tzinfo=UTC),
        group_by="MONTH",
    )

    assert [(m.interval_start.astimezone(ZoneInfo("Europe/Berlin")).month, m.kwh) for m in months] == [
        (1, Decimal("2.0000")),
        (2, Decimal("2.0000")),
    ]


@pytest.mark.postgres
def test_readings_land_in_monthly_partitions_on_postgresql():
    from django.db import connection

    meter = make_meter("M-P")
    ingest(meter, half_hours(datetime(2024, 2, 29, 23, 0, tzinfo=UTC), 4))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM metering_reading GROUP BY 1 ORDER BY 1"
        )
        assert cursor.fetchall() == [("metering_reading_p202402", 2), ("metering_reading_p202403", 2)]
