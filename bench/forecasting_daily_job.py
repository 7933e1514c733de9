"""The daily forecasting job through real Celery workers: N aggregate series, each with its champion refitted
and a 7-day hourly forecast issued (target for 1,000 series: < 15 min on 2 cores). Measured in full, not
extrapolated: run it with N = 1000.

Sets up N hourly series (60 days of history, a shape like a feeder's, one weather location; inserted with
one set-based INSERT) in the database of DATABASE_URL, starts two Celery workers on the forecasting queue
(one process each, so two cores), sends one task per chunk of 25 series as a Celery group exactly as
`forecasts_retrain_all` does, and times until every chunk is done. The figure is the steady state (champion
already selected, as on six days of seven); `--select` measures selection too.

The machine may be shared, so the script also prints the load average before and after, and measures in
the same run, in-process on a sample of series, the CPU seconds per series and the backtest MAPE of the
LightGBM settings used before (300 trees, 63 leaves for every series) and now (the compact model for short
histories): their ratio does not depend on the load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_fcst REDIS_URL=redis://127.0.0.1:6379/12 \
        .venv/bin/python bench/forecasting_daily_job.py 1000 [--select] [--sample 6]
"""

import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "forecasting"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from decimal import Decimal

import numpy as np
import pandas as pd
from celery import group
from django.db import connection
from synthetic import demand_series

from forecasting.modelling.backtest import backtest, local_midnights
from forecasting.modelling.calendar import Calendar
from forecasting.modelling.models import GradientBoosting
from forecasting.models import Forecast, ModelRun, Series, WeatherObservation
from forecasting.services.training import series_chunks, series_train
from forecasting.services.weather import weather_location_create
from forecasting.tasks.training import series_retrain_chunk

NOW = datetime(2023, 3, 20, tzinfo=UTC)
PREFIX = "file:bench-daily-"
BEFORE = {"lightgbm": {"compact": False}}  # the settings of every series before the compact model


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def setup(count: int, select: bool) -> list[int]:
    Series.objects.filter(code__startswith=PREFIX).delete()
    location = weather_location_create(code="bench-daily", latitude=Decimal("51.5"), longitude=Decimal("0"))
    y, X = demand_series(days=90, start="2022-12-20")
    WeatherObservation.objects.filter(location=location).delete()
    WeatherObservation.objects.bulk_create(
        WeatherObservation(location=location, interval_start=t.to_pydatetime(), temperature_c=float(v))
        for t, v in X["temperature_c"].items()
    )
    history = y[(y.index >= NOW - timedelta(days=60)) & (y.index < NOW)]
    created = Series.objects.bulk_create(
        Series(
            code=f"{PREFIX}{i:04d}",
            kind=Series.Kind.FILE,
            resolution_minutes=60,
            weather_location=location,
            champion="" if select else "lightgbm",
            champion_selected_at=None if select else NOW,
        )
        for i in range(count)
    )
    ids = [s.pk for s in created]
    scales = [0.5 + (i % 37) / 20 for i in range(count)]
    with connection.cursor() as cursor:  # every series' history in one set-based INSERT
        cursor.execute(
            """
            INSERT INTO forecasting_seriesvalue (series_id, interval_start, value)
            SELECT s.id, h.t, h.v * s.scale
            FROM unnest(%s::bigint[], %s::float8[]) AS s(id, scale)
            CROSS JOIN unnest(%s::timestamptz[], %s::float8[]) AS h(t, v)
            """,
            [ids, scales, [t.to_pydatetime() for t in history.index], [float(v) for v in history]],
        )
    # Only the bench's series are active during the run (the others are restored afterwards).
    paused = list(
        Series.objects.exclude(code__startswith=PREFIX).filter(active=True).values_list("pk", flat=True)
    )
    Series.objects.filter(pk__in=paused).update(active=False)
    return paused


def same_run_comparison(sample: int) -> tuple[float, float]:
    """CPU seconds per series of the daily refit + forecast with the settings before and now, alternating
    so that both see the same load; and their backtest MAPE on the bench's history (7 origins, 7 days)."""
    codes = [f"{PREFIX}{i:04d}" for i in range(sample)]
    series_train(series_code=codes[0], now=NOW)  # warm imports and caches
    cpu = {"before": 0.0, "now": 0.0}
    for code in codes:
        for label, options in (("before", BEFORE), ("now", None)):
            started = time.process_time()
            series_train(series_code=code, now=NOW, model_options=options)
            cpu[label] += time.process_time() - started
    before, now = cpu["before"] / sample, cpu["now"] / sample
    print(
        f"  same run, in-process, {sample} series: CPU per series before {before:.2f} s, now {now:.2f} s "
        f"(ratio {now / before:.2f})"
    )
    y, X = demand_series(days=90, start="2022-12-20")
    y = y[(y.index >= NOW - timedelta(days=60)) & (y.index < NOW)]
    calendar = Calendar(step=pd.Timedelta(hours=1))
    origins = local_midnights(pd.Timestamp("2023-03-06"), pd.Timestamp("2023-03-13"), calendar)
    factories = {
        "before": lambda: GradientBoosting(calendar, horizon=168, compact=False),
        "now": lambda: GradientBoosting(calendar, horizon=168),
    }
    result = backtest(
        y, X, calendar=calendar, factories=factories, origins=origins, horizon=168, calibration_days=7
    )
    mape = {m.name: m.metrics["mape"] for m in result.models}
    print(
        f"  backtest on the bench history (7 origins × 7 days ahead): MAPE before {mape['before']:.2f} %, "
        f"now {mape['now']:.2f} %, seasonal naive {result.seasonal_naive.metrics['mape']:.2f} %"
    )
    return before, now


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 1000
    select = "--select" in sys.argv
    sample = int(sys.argv[sys.argv.index("--sample") + 1]) if "--sample" in sys.argv else 6
    print(f"start: {load()}", flush=True)
    started = time.perf_counter()
    paused = setup(count, select)
    print(f"set up {count} series × 60 days hourly in {time.perf_counter() - started:.0f} s", flush=True)
    try:
        before, now = same_run_comparison(min(sample, count)) if not select else (np.nan, np.nan)
        elapsed, worker_cpu, outcomes = through_workers(count)
    finally:
        Series.objects.filter(code__startswith=PREFIX).delete()
        Series.objects.filter(pk__in=paused).update(active=True)
    print(f"end: {load()}")
    trained = sum(1 for v in outcomes.values() if not v.startswith("skipped"))
    per_series = elapsed / max(count, 1)
    print(f"{'with champion selection' if select else 'steady state (champion refit + 7-day forecast)'}:")
    print(
        f"  {count} series through 2 Celery workers, MEASURED IN FULL: {elapsed:.1f} s = {elapsed / 60:.1f} min "
        f"({per_series:.2f} s per series); {trained} trained"
    )
    print(
        f"  CPU used by the two workers (incl. start-up): {worker_cpu:.0f} s = {worker_cpu / count:.2f} s "
        f"per series; on 2 dedicated cores that is {worker_cpu / 2 / 60:.1f} min"
    )
    if not select:
        print(
            f"  before/now CPU ratio from the same run: {now / before:.2f}; the same {count} series with the "
            f"settings before would take about {elapsed * before / now / 60:.1f} min under this load"
        )


def through_workers(count: int) -> tuple[float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "forecasting",
                "-c",
                "1",
                "-n",
                f"bench-forecasting-{n}@%h",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        )
        for n in (1, 2)
    ]
    try:
        time.sleep(8)  # let both workers connect
        chunks = [c for c in series_chunks(chunk_size=25) if c and c[0].startswith(PREFIX)]
        started = time.perf_counter()
        result = group(
            series_retrain_chunk.s(series_codes=c, now=NOW.isoformat()) for c in chunks
        ).apply_async()
        outcomes: dict = {}
        for part in result.get(timeout=4 * 3600):
            outcomes.update(part)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    forecasts = Forecast.objects.filter(series__code__startswith=PREFIX, issued_at=NOW).count()
    runs = ModelRun.objects.filter(series__code__startswith=PREFIX, purpose=ModelRun.Purpose.TRAIN).count()
    print(f"  {runs} training runs stored, {forecasts} forecasts of 168 hours issued at {NOW.isoformat()}")
    return elapsed, worker_cpu, outcomes


if __name__ == "__main__":
    main()
