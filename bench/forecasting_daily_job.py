"""The daily forecasting job through real Celery workers: N aggregate series, each with its champion refitted
and a 7-day hourly forecast issued (target for 1,000 series: < 15 min on 2 cores).

Sets up N hourly series (60 days of history, a shape like a feeder's, one weather location) in the database
of DATABASE_URL, starts two Celery workers on the forecasting queue (one process each, so two cores),
enqueues one task per chunk of 25 series exactly as `forecasts_retrain_all` does, and times until every chunk
is done. With N < 1,000 the figure for 1,000 is extrapolated linearly and labelled so. A first run of a series
also selects its champion by backtest; the figure here is the steady state (champion already selected, as on
six days of seven); `--select` measures selection too.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_forecasting REDIS_URL=redis://127.0.0.1:6379/1 \
        .venv/bin/python bench/forecasting_daily_job.py 100 [--select]
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

from synthetic import demand_series

from forecasting.models import Forecast, ModelRun, Series, SeriesValue, WeatherObservation
from forecasting.services.training import series_chunks
from forecasting.services.weather import weather_location_create
from forecasting.tasks import series_retrain_chunk

NOW = datetime(2023, 3, 20, tzinfo=UTC)
PREFIX = "file:bench-daily-"


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
    for i in range(count):
        series = Series.objects.create(
            code=f"{PREFIX}{i:04d}",
            kind=Series.Kind.FILE,
            resolution_minutes=60,
            weather_location=location,
            champion="" if select else "lightgbm",
            champion_selected_at=None if select else NOW,
        )
        scale = 0.5 + (i % 37) / 20
        SeriesValue.objects.bulk_create(
            (
                SeriesValue(series=series, interval_start=t.to_pydatetime(), value=float(v) * scale)
                for t, v in history.items()
            ),
            batch_size=5000,
        )
    # Only the bench's series are active during the run (the others are restored afterwards).
    paused = list(
        Series.objects.exclude(code__startswith=PREFIX).filter(active=True).values_list("pk", flat=True)
    )
    Series.objects.filter(pk__in=paused).update(active=False)
    return paused


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    select = "--select" in sys.argv
    started = time.perf_counter()
    paused = setup(count, select)
    print(f"set up {count} series × 60 days hourly in {time.perf_counter() - started:.0f} s", flush=True)
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
        results = [series_retrain_chunk.delay(series_codes=c, now=NOW.isoformat()) for c in chunks]
        outcomes = {}
        for result in results:
            outcomes.update(result.get(timeout=3600))
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    trained = sum(1 for v in outcomes.values() if not v.startswith("skipped"))
    forecasts = Forecast.objects.filter(series__code__startswith=PREFIX, issued_at=NOW).count()
    runs = ModelRun.objects.filter(series__code__startswith=PREFIX, purpose="train").count()
    per_series = elapsed / max(count, 1)
    print(f"{'with champion selection' if select else 'steady state (champion refit + forecast)'}:")
    print(
        f"  {count} series through 2 Celery workers: {elapsed:.1f} s ({per_series:.2f} s per series); "
        f"{trained} trained, {runs} runs, {forecasts} forecasts of 168 hours"
    )
    print(
        f"  CPU used by the two workers (incl. their start-up): {worker_cpu:.0f} s = {worker_cpu / count:.2f} s per series"
    )
    print(
        f"  1,000 series on 2 dedicated cores, from that CPU time (EXTRAPOLATED): {worker_cpu / count * 1000 / 2 / 60:.1f} min"
    )
    if count < 1000:
        print(
            f"  1,000 series EXTRAPOLATED linearly from this run's wall time: {per_series * 1000 / 60:.1f} min"
        )
    Series.objects.filter(code__startswith=PREFIX).delete()
    Series.objects.filter(pk__in=paused).update(active=True)


if __name__ == "__main__":
    main()
