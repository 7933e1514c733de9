"""Packed reading days (`ReadingDay`, PostgreSQL): every ingest path keeps them equal to the readings, so the
per-meter loader (which reads them) returns exactly what the readings table holds, revisions included."""

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.db import connection, transaction

from metering.models import Quality, Reading, ReadingDay, Source
from metering.partitions import ensure_reading_partitions
from metering.selectors.readings import meter_reading_arrays, reading_arrays
from metering.services.readings import (
    ReadingBlockInput,
    UnableToRebuildReadingDays,
    reading_days_rebuild,
    readings_from_inputs,
    readings_import_file,
    readings_ingest,
    readings_ingest_blocks,
    readings_ingest_for_meter,
)
from metering.services.telemetry import mqtt_batch_store
from metering.services.vee import vee_run
from metering.validation import ReadingArrays
from tests.factories.metering import half_hours, ingest, make_meter

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a PostgreSQL layout (others read the readings)"
    ),
]

DAY = datetime(2024, 3, 31, tzinfo=UTC)  # the spring DST change in London
WIDE = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def loaded(meter_ids: list[int], start=WIDE[0], end=WIDE[1]) -> dict[int, tuple[list, list, list]]:
    ids = np.array(meter_ids, dtype=np.int64)
    return {
        r.meter_id: (r.start_s.tolist(), r.kwh_e4.tolist(), r.quality.tolist())
        for r in meter_reading_arrays(meter_ids=ids, start=start, end=end)
    }


def in_readings(meter_ids: list[int], start=WIDE[0], end=WIDE[1]) -> dict[int, tuple[list, list, list]]:
    block = reading_arrays(meter_ids=np.array(meter_ids, dtype=np.int64), start=start, end=end)
    out = {}
    for meter_id in sorted(set(block.meter_id.tolist())):
        mine = np.flatnonzero(block.meter_id == meter_id)
        order = mine[np.argsort(block.start_s[mine])]
        out[meter_id] = (
            block.start_s[order].tolist(),
            block.kwh_e4[order].tolist(),
            block.quality[order].tolist(),
        )
    return out


def assert_days_match_readings(meter_ids: list[int]) -> None:
    assert loaded(meter_ids) == in_readings(meter_ids)
    days = ReadingDay.objects.filter(meter_id__in=meter_ids)
    assert (
        sum(days.values_list("reading_count", flat=True))
        == Reading.objects.filter(meter_id__in=meter_ids).count()
    )


def test_bulk_ingest_then_a_correction_and_an_estimate_keep_the_days_equal_to_the_readings():
    meter = make_meter("RD-1")
    ingest(meter, half_hours(DAY - timedelta(hours=2), 50, "0.2500"))  # 2 UTC days
    days = ReadingDay.objects.filter(meter=meter).order_by("day")
    assert list(days.values_list("day", "reading_count")) == [
        (DAY.date() - timedelta(days=1), 4),
        (DAY.date(), 46),
    ]

    ingest(meter, half_hours(DAY + timedelta(hours=5), 2, ["1.2345", "0.0001"]), now=NOW)  # a correction
    ingest(meter, half_hours(DAY + timedelta(hours=6), 1, "9.0000"), quality=Quality.ESTIMATED)  # refused
    ingest(meter, half_hours(DAY + timedelta(days=1), 1, "0.3333"), quality=Quality.ESTIMATED)  # new day

    start_s, kwh_e4, quality = loaded([meter.pk])[meter.pk]
    five = start_s.index(int((DAY + timedelta(hours=5)).timestamp()))
    assert kwh_e4[five : five + 3] == [12345, 1, 2500]
    assert (kwh_e4[-1], quality[-1]) == (3333, Quality.ESTIMATED)
    assert len(start_s) == 51
    assert_days_match_readings([meter.pk])


def test_the_loader_cuts_whole_days_to_the_window():
    meter = make_meter("RD-2")
    ingest(meter, half_hours(DAY, 48, [str(Decimal(i) / 100) for i in range(48)]))

    got = loaded([meter.pk], DAY + timedelta(hours=1), DAY + timedelta(hours=2, minutes=30))

    assert got[meter.pk][1] == [200, 300, 400]
    assert loaded([meter.pk], DAY + timedelta(days=1), DAY + timedelta(days=2)) == {}


def test_graphql_mqtt_block_file_and_vee_writes_all_reach_the_days(tmp_path: Path):
    graphql, mqtt, blocks, filed, estimated = (make_meter(f"RD-P{i}") for i in range(5))

    readings_ingest_for_meter(
        meter_serial=graphql.serial, readings=half_hours(DAY, 3, "0.1000"), source=Source.GRAPHQL, now=NOW
    )
    readings_ingest_for_meter(  # the same client corrects one interval
        meter_serial=graphql.serial,
        readings=half_hours(DAY + timedelta(minutes=30), 1, "0.7000"),
        source=Source.GRAPHQL,
        now=NOW + timedelta(hours=1),
    )
    mqtt_batch_store(
        readings=readings_from_inputs(mqtt.pk, half_hours(DAY, 2, ["0.0100", "0.0200"])),
        dead_letters=[],
        max_payload_bytes=65536,
        now=NOW,
    )
    readings_ingest_blocks(
        blocks=[
            ReadingBlockInput(
                meter_serial=blocks.serial,
                start=DAY,
                resolution_s=1800,
                values=["0.5", "0.6", "0.7"],
                qualities=["ACTUAL", "ESTIMATED", "ACTUAL"],
            )
        ],
        source=Source.GRAPHQL,
        now=NOW,
    )
    path = tmp_path / "long.csv"
    path.write_text(
        "meter_serial,interval_start,interval_end,kwh\n"
        f"{filed.serial},2024-03-31T00:00:00Z,2024-03-31T00:30:00Z,0.4321\n"
        f"{filed.serial},2024-03-31T00:30:00Z,2024-03-31T01:00:00Z,0.1234\n"
    )
    readings_import_file(path=path, now=NOW)
    # VEE: a day with a 3-interval hole is filled by interpolation
    values = [str(Decimal(1000 + 10 * j) / 10_000) for j in range(48)]
    ingest(estimated, half_hours(DAY - timedelta(days=28), 28 * 48, "0.1000"))
    full = half_hours(DAY, 48, values)
    ingest(estimated, full[:6] + full[9:])
    vee_run(period_start=DAY, period_end=DAY + timedelta(days=1), as_of=DAY + timedelta(days=1, hours=6))

    got = loaded([m.pk for m in (graphql, mqtt, blocks, filed, estimated)], DAY, DAY + timedelta(days=1))
    assert got[graphql.pk][1] == [1000, 7000, 1000]
    assert got[mqtt.pk][1] == [100, 200]
    assert got[blocks.pk][1:] == ([5000, 6000, 7000], [1, 2, 1])
    assert got[filed.pk][1] == [4321, 1234]
    assert got[estimated.pk][1][5:10] == [1050, 1060, 1070, 1080, 1090]  # 1060–1080 estimated
    assert got[estimated.pk][2][5:10] == [1, 2, 2, 2, 1]
    assert_days_match_readings([m.pk for m in (graphql, mqtt, blocks, filed, estimated)])


def test_readings_written_around_the_ingest_are_found_after_a_rebuild():
    meter = make_meter("RD-3")
    ensure_reading_partitions(DAY, DAY)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO metering_reading (meter_id, interval_start, interval_end, energy_kwh, quality, "
            "source, received_at) SELECT %s, t, t + interval '30 minutes', 0.0042, 1, 2, %s "
            "FROM generate_series(%s::timestamptz, %s::timestamptz, interval '30 minutes') AS t",
            [meter.pk, NOW, DAY, DAY + timedelta(hours=23, minutes=30)],
        )
    assert loaded([meter.pk]) == {}

    rebuilt = reading_days_rebuild(start=DAY, end=DAY + timedelta(days=1), meter_ids=[meter.pk])

    assert rebuilt == 1
    assert loaded([meter.pk])[meter.pk][1] == [42] * 48
    assert_days_match_readings([meter.pk])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM metering_reading WHERE meter_id = %s", [meter.pk])
    reading_days_rebuild(start=DAY, end=DAY + timedelta(days=1), meter_ids=[meter.pk])
    assert loaded([meter.pk]) == {}
    assert not ReadingDay.objects.filter(meter=meter).exists()
    with pytest.raises(UnableToRebuildReadingDays) as refused:
        reading_days_rebuild(start=DAY, end=DAY)
    assert refused.value.field == "end"


def while_the_first_holds_its_rows(first_write, second_write) -> list[Exception]:
    """Run `first_write` in a transaction held open for 1.5 s after it merged, and `second_write` from another
    thread meanwhile; the exceptions either raised."""
    first_merged, errors = threading.Event(), []

    def first() -> None:
        try:
            with transaction.atomic():
                first_write()
                first_merged.set()
                time.sleep(1.5)  # hold the rows while the second writer merges and waits
        except Exception as exc:  # reported to the caller
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_merged.wait(10)
            second_write()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("day_exists", [True, False])
def test_two_writers_of_one_day_at_once_both_reach_its_row(day_exists):
    """The second writer's reading is merged while the first still holds the day; its rebuild waits for
    the first to commit and then sees both (a rebuild from its own snapshot alone would lose the first's)."""
    meter = make_meter("RD-C")
    if day_exists:
        ingest(meter, half_hours(DAY, 1, "0.1000"))
    errors = while_the_first_holds_its_rows(
        lambda: ingest(meter, half_hours(DAY + timedelta(hours=1), 1, "0.2000")),
        lambda: ingest(meter, half_hours(DAY + timedelta(hours=2), 1, "0.3000")),
    )

    assert errors == []
    assert loaded([meter.pk])[meter.pk][1] == ([1000] if day_exists else []) + [2000, 3000]
    assert_days_match_readings([meter.pk])


def packed_rows(meter_ids: list[int]) -> list[tuple]:
    rows = ReadingDay.objects.filter(meter_id__in=meter_ids).order_by("meter_id", "day")
    return [
        (r.meter_id, r.day, bytes(r.starts), bytes(r.kwh_e4), bytes(r.quality), r.reading_count) for r in rows
    ]


def day_row_location(meter_id: int, day) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ctid::text FROM metering_readingday WHERE meter_id = %s AND day = %s", [meter_id, day]
        )
        return cursor.fetchone()[0]


def test_a_mixed_batch_packs_the_days_a_full_rebuild_would_and_leaves_unchanged_days_alone():
    revised, resent, new = make_meter("RD-M1"), make_meter("RD-M2"), make_meter("RD-M3")
    values = [str(Decimal(100 + i) / 10_000) for i in range(48)]
    ingest(revised, half_hours(DAY, 48, values))
    ingest(resent, half_hours(DAY, 48, "0.2000"))
    untouched_at = day_row_location(resent.pk, DAY.date())
    one_revised = [*values[:10], "0.9999", *values[11:]]
    parts = [
        (revised, half_hours(DAY, 48, one_revised), Quality.ACTUAL),  # an existing day, one value revised
        (revised, half_hours(DAY + timedelta(days=1), 48, "0.3000"), Quality.ACTUAL),  # a new day
        (resent, half_hours(DAY, 1, "0.5000"), Quality.ESTIMATED),  # an estimate never replaces an actual
        (resent, half_hours(DAY + timedelta(minutes=30), 47, "0.2000"), Quality.ACTUAL),  # duplicates
        (new, half_hours(DAY - timedelta(hours=10), 20, "0.0400"), Quality.ACTUAL),  # a new meter: 2 days
        (new, half_hours(DAY + timedelta(hours=10), 1, "0.0500"), Quality.ESTIMATED),
        (new, half_hours(DAY + timedelta(hours=10, minutes=30), 27, "0.0600"), Quality.ACTUAL),
    ]
    arrays = [readings_from_inputs(meter.pk, readings) for meter, readings, _ in parts]
    qualities = np.concatenate([np.full(len(readings), q, dtype="int8") for _, readings, q in parts])
    shuffled = np.random.default_rng(7).permutation(len(qualities))  # not in (meter, start) order
    batch = ReadingArrays(
        *(
            np.concatenate([getattr(a, name) for a in arrays])[shuffled]
            for name in ReadingArrays.__dataclass_fields__
        )
    )

    result = readings_ingest(readings=batch, source=Source.FILE, now=NOW, quality=qualities[shuffled])

    assert (result.accepted, result.revised, result.duplicates) == (1 + 48 + 48, 1, 47 + 48)
    meter_ids = [revised.pk, resent.pk, new.pk]
    after_ingest = packed_rows(meter_ids)
    assert [(m, d, n) for m, d, *_, n in after_ingest] == [
        (revised.pk, DAY.date(), 48),
        (revised.pk, DAY.date() + timedelta(days=1), 48),
        (resent.pk, DAY.date(), 48),
        (new.pk, DAY.date() - timedelta(days=1), 20),
        (new.pk, DAY.date(), 28),
    ]
    assert (
        day_row_location(resent.pk, DAY.date()) == untouched_at
    )  # all its readings unchanged: not rewritten
    assert (
        reading_days_rebuild(start=DAY - timedelta(days=1), end=DAY + timedelta(days=2), meter_ids=meter_ids)
        == 5
    )
    assert packed_rows(meter_ids) == after_ingest
    got = loaded(meter_ids)
    assert got[revised.pk][1][9:12] == [109, 9999, 111]
    assert got[new.pk][1][19:23] == [400, 500, 600, 600]
    assert got[new.pk][2][19:23] == [1, 2, 1, 1]
    assert_days_match_readings(meter_ids)

    again = readings_ingest(readings=batch, source=Source.FILE, now=NOW, quality=qualities[shuffled])

    assert (again.accepted, again.duplicates) == (0, 1 + 48 + 48 + 47 + 48)
    assert packed_rows(meter_ids) == after_ingest


def test_new_days_packed_in_several_copy_chunks_equal_a_full_rebuild(monkeypatch):
    monkeypatch.setattr("metering.ingest.COPY_CHUNK_DAYS", 2)
    meters = [make_meter(f"RD-K{i}") for i in range(5)]
    batch = [
        readings_from_inputs(m.pk, half_hours(DAY, 48, str(Decimal(i + 1) / 10)))
        for i, m in enumerate(meters)
    ]
    arrays = ReadingArrays(
        *(np.concatenate([getattr(a, name) for a in batch]) for name in ReadingArrays.__dataclass_fields__)
    )

    result = readings_ingest(readings=arrays, source=Source.FILE, now=NOW)

    meter_ids = [m.pk for m in meters]
    assert result.accepted == 5 * 48
    after_ingest = packed_rows(meter_ids)
    assert [kwh_e4 for _, _, _, kwh_e4, _, _ in after_ingest] == [
        np.full(48, 1000 * (i + 1), dtype=">i8").tobytes() for i in range(5)
    ]
    reading_days_rebuild(start=DAY, end=DAY + timedelta(days=1), meter_ids=meter_ids)
    assert packed_rows(meter_ids) == after_ingest
    assert_days_match_readings(meter_ids)


@pytest.mark.django_db(transaction=True)
def test_a_writer_retried_after_a_concurrent_insert_of_its_intervals_leaves_the_days_equal_to_a_rebuild():
    """The second writer sends the same intervals, one with another value, while the first holds them: its
    insert fails on the key once the first commits, the retry finds them stored and revises the one."""
    meter = make_meter("RD-R")
    results = []
    errors = while_the_first_holds_its_rows(
        lambda: ingest(meter, half_hours(DAY, 4, "0.1000")),
        lambda: results.append(ingest(meter, half_hours(DAY, 4, ["0.1000", "0.1000", "0.2000", "0.1000"]))),
    )

    assert errors == []
    assert (results[0].accepted, results[0].revised, results[0].duplicates) == (1, 1, 3)
    after_ingest = packed_rows([meter.pk])
    assert loaded([meter.pk])[meter.pk][1] == [1000, 1000, 2000, 1000]
    reading_days_rebuild(start=DAY, end=DAY + timedelta(days=1), meter_ids=[meter.pk])
    assert packed_rows([meter.pk]) == after_ingest
    assert_days_match_readings([meter.pk])
