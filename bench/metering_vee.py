"""VEE over one day for N meters (default 10,000) with ~1 % missing intervals, and the aggregate refresh
after ingesting that day, on PostgreSQL.

Creates BENCH-VEE meters (100 feeders, 10 regions) with 4 weeks of half-hourly history (ingested once and
kept), then each run: re-ingests the day with ~1 % of its intervals missing (single intervals and
10-interval outages), drains older aggregate marks, and prints
  - aggregates_refresh after ingesting the day,
  - vee_run over the day (one read per chunk of 2,000 meters: the day plus 4 weeks of history),
  - aggregates_refresh after the estimates, and a second (idempotent) vee_run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/metering_vee.py [--meters N]
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

import numpy as np
from django.core.management import call_command
from django.db import connection

from metering.ingest import rebuild_reading_days
from metering.models import AggregateDirty, DataIssue, Meter, MeterPoint, Quality, Reading, Source
from metering.services import vee as vee_service
from metering.services.aggregates import aggregates_refresh
from metering.services.readings import readings_ingest
from metering.services.vee import vee_run
from metering.validation import ReadingArrays

DAY = datetime(2024, 6, 10, tzinfo=UTC)
HISTORY_DAYS = 28
PREFIX = "BENCH-VEE-"


def setup_meters(n: int) -> np.ndarray:
    have = Meter.objects.filter(serial__startswith=PREFIX).count()
    if have < n:
        print(f"creating {n - have} BENCH-VEE meter points and meters ...", flush=True)
        points = MeterPoint.objects.bulk_create(
            [
                MeterPoint(
                    identifier=f"{PREFIX}MP-{i:06d}",
                    feeder_code=f"FV{i % 100:03d}",
                    region_code=f"RV{i % 10}",
                )
                for i in range(have, n)
            ],
            batch_size=10_000,
        )
        Meter.objects.bulk_create(
            [
                Meter(meter_point=p, serial=f"{PREFIX}{i:06d}", installed_at=datetime(2024, 1, 1, tzinfo=UTC))
                for i, p in zip(range(have, n), points, strict=True)
            ],
            batch_size=10_000,
        )
    return np.array(
        Meter.objects.filter(serial__startswith=PREFIX).order_by("id").values_list("id", flat=True)[:n]
    )


def day_arrays(meter_ids: np.ndarray, day: datetime, rng, missing: np.ndarray | None = None) -> ReadingArrays:
    n = len(meter_ids)
    starts = np.datetime64(day.replace(tzinfo=None), "s") + np.arange(48) * np.timedelta64(1800, "s")
    shape = 0.6 + 0.8 * np.sin(np.linspace(0, 2 * np.pi, 48, endpoint=False)) ** 2  # a daily profile
    kwh_e4 = (rng.gamma(4.0, 300.0, (n, 48)) * shape).astype("int64")
    keep = np.ones((n, 48), dtype=bool) if missing is None else ~missing
    meter = np.repeat(meter_ids, 48).reshape(n, 48)[keep]
    start = np.tile(starts, (n, 1))[keep]
    return ReadingArrays(
        meter, start, start + np.timedelta64(1800, "s"), kwh_e4[keep], np.zeros(int(keep.sum()), "int8")
    )


def missing_mask(n: int, rng) -> np.ndarray:
    """~1 % of the day's intervals: 0.6 % single intervals and 10-interval outages on 0.4 % of cells."""
    missing = rng.random((n, 48)) < 0.006
    for m in rng.choice(n, size=max(1, n * 48 // 2500), replace=False):
        first = rng.integers(1, 37)
        missing[m, first : first + 10] = True
    return missing


def ensure_history(meter_ids: np.ndarray) -> None:
    first_day = DAY - timedelta(days=HISTORY_DAYS)
    sample = [int(meter_ids[0]), int(meter_ids[-1])]
    have = Reading.objects.filter(
        meter_id__in=sample, interval_start__gte=first_day, interval_start__lt=DAY, quality=Quality.ACTUAL
    ).count()
    if have == 2 * HISTORY_DAYS * 48:
        return
    print(f"ingesting {HISTORY_DAYS} days of history for {len(meter_ids):,} meters ...", flush=True)
    _delete_readings(meter_ids, first_day, DAY)
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    for d in range(HISTORY_DAYS):
        readings_ingest(
            readings=day_arrays(meter_ids, first_day + timedelta(days=d), rng),
            source=Source.FILE,
            now=DAY + timedelta(days=2),
        )
    print(f"  history ingested in {time.perf_counter() - started:.1f} s", flush=True)


def _delete_readings(meter_ids: np.ndarray, start: datetime, end: datetime) -> None:
    with connection.cursor() as cursor:
        for table in ("metering_reading", "metering_readingrevision"):
            cursor.execute(
                f"DELETE FROM {table} WHERE meter_id = ANY(%s) AND interval_start >= %s AND interval_start < %s",  # noqa: S608
                [meter_ids.tolist(), start, end],
            )
    # deleted around the ingest: repack the touched reading days (their other readings stay)
    rebuild_reading_days(
        meter_ids=meter_ids.tolist(), start=start - timedelta(days=1), end=end + timedelta(days=1)
    )


class LoadTimer:
    """Time spent in the per-chunk reading query (binary COPY and decoding) during vee_run."""

    def __init__(self):
        self.seconds = 0.0
        self.rows = 0
        # vee_run reads each chunk through metering.selectors.readings.reading_arrays
        self.original = vee_service.selectors.reading_arrays
        vee_service.selectors.reading_arrays = self

    def __call__(self, **kwargs):
        started = time.perf_counter()
        loaded = self.original(**kwargs)
        self.seconds += time.perf_counter() - started
        self.rows += len(loaded.meter_id)
        return loaded


def drain_marks(now: datetime) -> tuple[int, float]:
    started = time.perf_counter()
    total = 0
    while AggregateDirty.objects.exists():
        total += aggregates_refresh(now=now)
    return total, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=10_000)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run on PostgreSQL (set DATABASE_URL)"
    call_command("migrate", verbosity=0)
    meter_ids = setup_meters(args.meters)
    ensure_history(meter_ids)
    now = DAY + timedelta(days=1, hours=1)

    _delete_readings(meter_ids, DAY, DAY + timedelta(days=1))
    DataIssue.objects.filter(meter_id__in=meter_ids.tolist()).delete()
    rows, drain_s = drain_marks(now)
    print(f"drained older aggregate marks: {rows:,} aggregate rows in {drain_s:.1f} s", flush=True)

    rng = np.random.default_rng(11)
    missing = missing_mask(len(meter_ids), rng)
    arrays = day_arrays(meter_ids, DAY, rng, missing)
    started = time.perf_counter()
    result = readings_ingest(readings=arrays, source=Source.FILE, now=now)
    ingest_s = time.perf_counter() - started
    assert result.accepted == len(arrays), result
    print(
        f"ingest of the day: {len(arrays):,} readings for {len(meter_ids):,} meters, "
        f"{int(missing.sum()):,} intervals ({missing.mean():.2%}) missing: {ingest_s:.1f} s"
    )

    marks = AggregateDirty.objects.count()
    started = time.perf_counter()
    written = aggregates_refresh(now=now)
    refresh_s = time.perf_counter() - started
    assert not AggregateDirty.objects.exists()
    print(
        f"aggregates_refresh after the day: {marks:,} marks → {written:,} aggregate rows in {refresh_s:.2f} s"
    )

    load = LoadTimer()
    started = time.perf_counter()
    report = vee_run(
        period_start=DAY, period_end=DAY + timedelta(days=1), as_of=now, meter_ids=meter_ids.tolist()
    )
    vee_s = time.perf_counter() - started
    assert report.intervals_estimated == int(missing.sum()), report
    print(
        f"vee_run over the day for {report.meters_checked:,} meters (+ {HISTORY_DAYS} days of history read): "
        f"{vee_s:.1f} s; gaps {report.gaps_found:,} ({report.gap_intervals:,} intervals), "
        f"estimated {report.intervals_estimated:,}, unestimated {report.intervals_unestimated:,}, "
        f"spikes {report.spikes}, stuck {report.stuck_runs}, issues created {report.issues_created:,}\n"
        f"  of which reading {load.rows:,} readings (one COPY per 2,000 meters): {load.seconds:.1f} s"
    )

    started = time.perf_counter()
    written = aggregates_refresh(now=now)
    print(
        f"aggregates_refresh after the estimates: {written:,} aggregate rows in {time.perf_counter() - started:.2f} s"
    )

    again = vee_run(
        period_start=DAY, period_end=DAY + timedelta(days=1), as_of=now, meter_ids=meter_ids.tolist()
    )
    assert (again.intervals_estimated, again.issues_created, again.gaps_found) == (0, 0, 0), again
    print(f"vee_run again (idempotent, nothing to do): {again.elapsed_s:.1f} s")


if __name__ == "__main__":
    main()
