"""Bulk ingest of one day of half-hourly readings for N meters (default 100,000 → 4.8 M readings).

Prints, measured in the same run on PostgreSQL:
  - end-to-end ingest from arrays (validation, de-duplication, COPY into staging, merge): rows/s
  - a bare binary COPY of the same rows into a table with the same primary key: rows/s, and the ratio
  - re-ingesting the same readings: all duplicates, nothing changed, and its time
  - with --file: `readings_import` of the same day from a long CSV file (parsing included)

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/metering_ingest.py [--meters N] [--file]
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

import numpy as np
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Sum

from metering.ingest import binary_copy_payload, pg_timestamps
from metering.models import Meter, MeterPoint, Reading, ReadingDay, ReadingRevision, Source
from metering.partitions import ensure_reading_partitions
from metering.services.readings import readings_ingest
from metering.validation import ReadingArrays

DAY = datetime(2024, 1, 15, tzinfo=UTC)


def setup_meters(n: int) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE metering_reading, metering_readingday, metering_readingrevision, metering_aggregatedirty"
        )
    have = Meter.objects.filter(serial__startswith="BENCH-").count()
    if have < n:
        print(f"creating {n - have} meter points and meters ...", flush=True)
        points = MeterPoint.objects.bulk_create(
            [
                MeterPoint(
                    identifier=f"BENCH-MP-{i:06d}", feeder_code=f"F{i % 200:03d}", region_code=f"R{i % 10}"
                )
                for i in range(have, n)
            ],
            batch_size=10_000,
        )
        Meter.objects.bulk_create(
            [
                Meter(meter_point=p, serial=f"BENCH-{i:06d}", installed_at=datetime(2020, 1, 1, tzinfo=UTC))
                for i, p in zip(range(have, n), points, strict=True)
            ],
            batch_size=10_000,
        )
    return np.array(
        Meter.objects.filter(serial__startswith="BENCH-").order_by("id").values_list("id", flat=True)[:n]
    )


def day_arrays(meter_ids: np.ndarray, seed: int = 1) -> ReadingArrays:
    rng = np.random.default_rng(seed)
    n = len(meter_ids)
    starts = np.datetime64(DAY.replace(tzinfo=None), "s") + np.arange(48) * np.timedelta64(1800, "s")
    meter = np.repeat(meter_ids, 48)
    start = np.tile(starts, n)
    kwh_e4 = rng.gamma(2.0, 1000.0, n * 48).astype("int64")
    return ReadingArrays(meter, start, start + np.timedelta64(1800, "s"), kwh_e4, np.zeros(n * 48, "int8"))


def bare_copy(arrays: ReadingArrays) -> float:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TABLE bench_copy (meter_id bigint, interval_start timestamptz, interval_end timestamptz,"
            " kwh_e4 bigint, PRIMARY KEY (meter_id, interval_start))"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        for at in range(0, len(arrays), 500_000):
            part = slice(at, at + 500_000)
            payload = binary_copy_payload(
                [
                    arrays.meter_id[part],
                    pg_timestamps(arrays.start[part]),
                    pg_timestamps(arrays.end[part]),
                    arrays.kwh_e4[part],
                ]
            )
            with raw.copy("COPY bench_copy FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(payload)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--file", action="store_true", help="also time readings_import from a CSV file")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run on PostgreSQL (set DATABASE_URL)"
    call_command("migrate", verbosity=0)
    meter_ids = setup_meters(args.meters)
    arrays = day_arrays(meter_ids)
    rows = len(arrays)
    ensure_reading_partitions(DAY, DAY)
    now = datetime(2024, 2, 1, tzinfo=UTC)

    copy_s = bare_copy(arrays)
    print(
        f"bare binary COPY, same primary key: {rows:,} rows in {copy_s:.1f} s = {rows / copy_s:,.0f} rows/s"
    )

    started = time.perf_counter()
    result = readings_ingest(readings=arrays, source=Source.FILE, now=now)
    ingest_s = time.perf_counter() - started
    assert result.accepted == rows and result.rejected_count == 0, result
    print(
        f"ingest (validate, de-duplicate, COPY, merge): {rows:,} rows in {ingest_s:.1f} s = "
        f"{rows / ingest_s:,.0f} rows/s; {ingest_s / copy_s:.2f}x the bare COPY"
    )
    days = ReadingDay.objects.aggregate(days=Count("pk"), readings=Sum("reading_count"))
    assert days == {"days": args.meters, "readings": rows}, days  # one packed day per meter, every reading

    started = time.perf_counter()
    again = readings_ingest(readings=arrays, source=Source.FILE, now=now)
    again_s = time.perf_counter() - started
    assert again.accepted == 0 and again.duplicates == rows, again
    assert ReadingRevision.objects.count() == 0
    print(
        f"re-ingest of the same {rows:,} readings: all duplicates, nothing changed, {again_s:.1f} s "
        f"({rows / again_s:,.0f} rows/s)"
    )

    if args.file:
        path = Path(tempfile.mkdtemp()) / "day.csv"
        serials = dict(Meter.objects.filter(id__in=meter_ids.tolist()).values_list("id", "serial"))
        with path.open("w") as out:
            out.write("meter_serial,interval_start,interval_end,kwh\n")
            starts = [str(s) + "Z" for s in arrays.start[:48]]
            ends = [str(s) + "Z" for s in arrays.end[:48]]
            kwh = arrays.kwh_e4 / 10_000
            for m, meter_id in enumerate(meter_ids.tolist()):
                serial = serials[meter_id]
                out.writelines(f"{serial},{starts[i]},{ends[i]},{kwh[m * 48 + i]:.4f}\n" for i in range(48))
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE metering_reading, metering_readingday, metering_readingrevision, metering_aggregatedirty"
            )
        started = time.perf_counter()
        call_command("readings_import", str(path), "--no-progress", verbosity=0)
        file_s = time.perf_counter() - started
        print(
            f"readings_import of a {path.stat().st_size / 1e6:.0f} MB long CSV ({rows:,} rows): {file_s:.1f} s"
            f" = {rows / file_s:,.0f} rows/s; {file_s / copy_s:.2f}x the bare COPY"
        )
    print(f"stored readings: {Reading.objects.count():,}")


if __name__ == "__main__":
    main()
