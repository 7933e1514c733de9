"""Tariff comparison at scale: accounts × tariffs × one year of half-hours, through the billing engine.

Target (issue 15): 100,000 accounts × 5 tariffs × one year of half-hours in ≤ 10 min on 2 cores. Storing
1.75 G readings (about 200 GB with the primary key) does not fit this machine's time or disk, so the path is
measured at up to 5,000 accounts and the full scale is EXTRAPOLATED (labelled as such in the output):

1. engine: `billing.engine.bill_compute` (the invoices' engine) for N accounts (default 2,000) × 5 tariffs
   (flat, tiered, tou with GB holidays, indexed on a synthetic market, dynamic with a synthetic published
   series) + the current tariff, one year (2023, 17,520 half-hours each), in 1 and in 2 processes;
2. loading (with DATABASE_URL): the comparison's loading of M accounts' agreements, meters and a year of
   readings from PostgreSQL (one row per meter, from the packed reading days), as
   `billing.services.comparison` does per chunk;
3. end to end (with DATABASE_URL): the whole comparison from PostgreSQL.

    .venv/bin/python bench/tariff_comparison.py [--accounts 2000] [--workers 2]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_analytics .venv/bin/python bench/tariff_comparison.py \
        --skip-engine --db-accounts 5000 --e2e-accounts 5000 --compare-loaders 300

`--db-accounts M` seeds M accounts with a year of readings once (set-based: bulk inserts and one
`INSERT … SELECT generate_series` per 250 meters, then their reading days packed as the ingest does; about
118 bytes a reading in PostgreSQL, 10 GB for 5,000) and times the loading; `--e2e-accounts M` runs the whole
comparison (loading overlapped with the engine, 5 tariffs: flat (current), flat, tiered, ToU, indexed) over
them; `--compare-loaders K` compares the per-reading loader, the per-meter loader packing `metering_reading`
(before reading days) and the per-meter loader reading the packed reading days (`metering_readingday`, now)
on K meters; `--run-workers W` (with REDIS_URL) runs a stored comparison run over the e2e accounts on W real
Celery workers, fanned out in chunks as a chord. Figures at 100,000 accounts are EXTRAPOLATED linearly from the per-account cost (chunks of 500
accounts are independent), by wall time and by CPU time.
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from billing import engine
from pricing import engine as rates
from pricing.documents import parse_tariff_document

YEAR_FROM = datetime(2023, 1, 1, tzinfo=UTC)
YEAR_TO = datetime(2024, 1, 1, tzinfo=UTC)
HALF_HOURS = 365 * 48
TARGET_ACCOUNTS, TARGET_TARIFFS, TARGET_SECONDS = 100_000, 5, 600


def _doc(energy: dict) -> dict:
    return {
        "format": "tariff/v1",
        "currency": "GBP",
        "timezone": "Europe/London",
        "standing_charge_per_day": "0.45",
        "energy": energy,
        "tax": {"name": "VAT", "rate": "0.05"},
    }


def _starts() -> np.ndarray:
    return np.datetime64(int(YEAR_FROM.timestamp()), "s") + np.arange(
        HALF_HOURS, dtype=np.int64
    ) * np.timedelta64(1800, "s")


def _tariffs() -> list[engine.PricedVersion]:
    starts = _starts()
    series_ends = starts + np.timedelta64(1800, "s")
    rng = np.random.default_rng(1)
    market = rates.PriceSeries(starts, series_ends, (rng.normal(90, 40, HALF_HOURS) * 1e6).astype(np.int64))
    published = rates.PriceSeries(
        starts, series_ends, rng.integers(40_000, 600_000, HALF_HOURS).astype(np.int64)
    )
    documents = [
        _doc({"kind": "flat", "rate_per_kwh": "0.2450"}),
        _doc(
            {
                "kind": "tiered",
                "tiers": [
                    {"up_to_kwh": "1000", "rate_per_kwh": "0.20"},
                    {"up_to_kwh": None, "rate_per_kwh": "0.27"},
                ],
            }
        ),
        _doc(
            {
                "kind": "tou",
                "rates_per_kwh": {"night": "0.09", "day": "0.22", "peak": "0.35"},
                "weekday": ["night"] * 14 + ["day"] * 20 + ["peak"] * 6 + ["day"] * 6 + ["night"] * 2,
                "weekend": ["night"] * 14 + ["day"] * 34,
                "holidays": "GB",
            }
        ),
        _doc(
            {
                "kind": "indexed",
                "market": "SYN",
                "multiplier": "1.10",
                "adder_per_kwh": "0.08",
                "cap_per_kwh": "1.00",
            }
        ),
        _doc({"kind": "dynamic", "market": "SYN"}),
    ]
    versions = []
    for i, raw in enumerate(documents, start=1):
        document = parse_tariff_document(raw)
        versions.append(
            engine.PricedVersion(
                version_id=i,
                valid_from=datetime(2020, 1, 1, tzinfo=UTC),
                valid_to=None,
                document=document,
                market=market if document.energy.kind == "indexed" else None,
                published=published if document.energy.kind == "dynamic" else None,
            )
        )
    return versions


def _bill_accounts(first: int, count: int) -> tuple[int, float, float]:
    """Bill `count` synthetic accounts under the 5 tariffs (the current one, flat, is among them and is
    billed once, as the comparison does); (bills, wall seconds, CPU seconds of this process)."""
    versions = _tariffs()
    starts = _starts()
    rng = np.random.default_rng(first)
    started, cpu = time.perf_counter(), time.process_time()
    bills = 0
    for account in range(first, first + count):
        kwh_e4 = rng.gamma(2.0, 1000.0, HALF_HOURS).astype(np.int64)
        meter = engine.MeterSeries(
            serial=f"M{account}",
            direction="IMPORT",
            interval_seconds=1800,
            installed_at=datetime(2020, 1, 1, tzinfo=UTC),
            removed_at=None,
            starts=starts,
            kwh_e4=kwh_e4,
            estimated=np.zeros(HALF_HOURS, bool),
        )
        agreement = engine.AgreementInput(
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
            valid_to=None,
            import_versions=[versions[0]],
            meters=[meter],
        )
        for version in versions:
            engine.bill_compute(
                agreements=[engine.AgreementInput(**{**agreement.__dict__, "import_versions": [version]})],
                period_start=date(2023, 1, 1),
                period_end=date(2024, 1, 1),
            )
            bills += 1
    return bills, time.perf_counter() - started, time.process_time() - cpu


def bench_engine(accounts: int, workers: int) -> None:
    bills, seconds, cpu = _bill_accounts(0, accounts)
    print(f"engine, 1 process: {accounts:,} accounts × 5 tariffs (the current one among them), one year each: "
          f"{seconds:.1f} s wall, {seconds / bills * 1000:.2f} ms per bill wall, {cpu / bills * 1000:.2f} ms CPU")  # fmt: skip
    share = accounts // workers
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_bill_accounts, [i * share for i in range(workers)], [share] * workers))
    wall = time.perf_counter() - started
    parallel_bills = sum(b for b, _, _ in results)
    parallel_cpu = sum(c for _, _, c in results)
    print(f"engine, {workers} processes: {parallel_bills:,} bills in {wall:.1f} s wall "
          f"({wall / parallel_bills * 1000:.2f} ms per bill wall), {parallel_cpu / parallel_bills * 1000:.2f} ms CPU per bill")  # fmt: skip
    full_bills = TARGET_ACCOUNTS * TARGET_TARIFFS
    print(f"EXTRAPOLATED engine time for {TARGET_ACCOUNTS:,} accounts × {TARGET_TARIFFS} tariffs on {workers} cores: "
          f"{full_bills * wall / parallel_bills / 60:.1f} min at this run's wall rate, "
          f"{full_bills * parallel_cpu / parallel_bills / workers / 60:.1f} min if the {workers} cores were ours "
          f"(CPU time ÷ {workers}); target {TARGET_SECONDS / 60:.0f} min for the whole path")  # fmt: skip


def seed_accounts(accounts: int) -> list[int]:
    """Make sure `accounts` bench accounts exist, each with one import meter and a year (2023) of
    half-hourly readings; set-based: meter points, meters, customers and agreements by bulk inserts, the
    readings by one `INSERT … SELECT generate_series` per batch of 250 meters (server-side, no Python
    per row). Returns the customer ids (ascending)."""
    from django.db import connection, transaction

    from billing.models import Agreement, Customer
    from metering.ingest import rebuild_reading_days
    from metering.models import Meter, MeterPoint
    from metering.partitions import ensure_reading_partitions
    from pricing.models import Tariff
    from pricing.services.tariffs import tariff_version_publish

    tariff, created = Tariff.objects.get_or_create(
        code="BENCH-CMP-FLAT", defaults={"name": "bench", "direction": "IMPORT"}
    )
    if created:
        tariff_version_publish(
            tariff_code=tariff.code,
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
            valid_to=None,
            document=_doc({"kind": "flat", "rate_per_kwh": "0.2450"}),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    existing = Customer.objects.filter(account_number__startswith="BENCH-CMP-").count()
    installed = datetime(2020, 1, 1, tzinfo=UTC)
    ensure_reading_partitions(YEAR_FROM, datetime(2023, 12, 31, tzinfo=UTC))
    batch = 250
    for first in range(existing, accounts, batch):
        numbers = range(first, min(first + batch, accounts))
        started = time.perf_counter()
        with transaction.atomic():
            points = MeterPoint.objects.bulk_create(
                MeterPoint(identifier=f"MP-BENCH-CMP-{i:06d}", feeder_code="BENCH") for i in numbers
            )
            meters = Meter.objects.bulk_create(
                Meter(
                    meter_point=p,
                    serial=f"BENCH-CMP-{i:06d}",
                    direction="IMPORT",
                    resolution_minutes=30,
                    installed_at=installed,
                )
                for i, p in zip(numbers, points, strict=True)
            )
            customers = Customer.objects.bulk_create(
                Customer(account_number=f"BENCH-CMP-{i:06d}", name=f"Bench {i}") for i in numbers
            )
            Agreement.objects.bulk_create(
                Agreement(customer=c, meter_point=p, import_tariff=tariff, valid_from=installed)
                for c, p in zip(customers, points, strict=True)
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO metering_reading (meter_id, interval_start, interval_end, energy_kwh, "
                    "quality, source, received_at) "
                    "SELECT m, t, t + interval '30 minutes', "
                    "round((-ln(1 - random()) * 0.1 - ln(1 - random()) * 0.1)::numeric, 4), 1, 2, %s "
                    "FROM unnest(%s::bigint[]) AS m, "
                    "generate_series(%s::timestamptz, %s::timestamptz, interval '30 minutes') AS t",
                    [
                        datetime(2026, 1, 1, tzinfo=UTC),
                        [m.pk for m in meters],
                        YEAR_FROM,
                        datetime(2023, 12, 31, 23, 30, tzinfo=UTC),
                    ],
                )
            # written around the ingest: pack their reading days as every ingest path does
            rebuild_reading_days(meter_ids=[m.pk for m in meters], start=YEAR_FROM, end=YEAR_TO)
        print(f"seeded accounts {first + 1}–{numbers[-1] + 1}/{accounts} "
              f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)  # fmt: skip
    if existing < accounts:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE metering_reading")
            cursor.execute("ANALYZE metering_readingday")
    return list(
        Customer.objects.filter(account_number__startswith="BENCH-CMP-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )[:accounts]


def bench_loading(accounts: int) -> None:
    """Seed `accounts` accounts with a year of half-hourly readings (once) and time the comparison's
    loading of them (agreements, meters, readings), as `billing.services.comparison` loads them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.db import connection

    from billing.services.bill_loading import RunContext, account_inputs

    ids = seed_accounts(accounts)
    context = RunContext(date(2023, 1, 1), date(2024, 1, 1))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_cpu = _process_cpu(backend)
    started, cpu = time.perf_counter(), time.process_time()
    readings = 0
    for offset in range(0, len(ids), 500):
        inputs = account_inputs(ids[offset : offset + 500], context)[2]
        readings += sum(len(m.starts) for agreements in inputs.values() for a in agreements for m in a.meters)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    backend_cpu = _process_cpu(backend) - backend_cpu
    per_million = seconds / readings * 1e6
    full = TARGET_ACCOUNTS * HALF_HOURS
    print(f"loading: {len(ids)} accounts, {readings:,} readings (a year each) in {seconds:.2f} s wall: "
          f"{per_million:.2f} s per million readings, {seconds / len(ids) * 1000:.1f} ms per account wall; "
          f"CPU {cpu:.2f} s in this process + {backend_cpu:.2f} s in its PostgreSQL backend = "
          f"{(cpu + backend_cpu) / len(ids) * 1000:.1f} ms per account")  # fmt: skip
    print(f"EXTRAPOLATED loading for {TARGET_ACCOUNTS:,} accounts ({full / 1e9:.2f} G readings): "
          f"{full / 1e6 * per_million / 60:.1f} min at this run's wall rate; "
          f"{TARGET_ACCOUNTS * (cpu + backend_cpu) / len(ids) / 60:.1f} min of CPU (one dedicated core)")  # fmt: skip


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (the PostgreSQL backend), from /proc; 0 elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


BENCH_TARIFFS = {
    "BENCH-CMP-FLAT2": {"kind": "flat", "rate_per_kwh": "0.2690"},
    "BENCH-CMP-TIERED": {
        "kind": "tiered",
        "tiers": [{"up_to_kwh": "1000", "rate_per_kwh": "0.20"}, {"up_to_kwh": None, "rate_per_kwh": "0.27"}],
    },
    "BENCH-CMP-TOU": {
        "kind": "tou",
        "rates_per_kwh": {"night": "0.09", "day": "0.22", "peak": "0.35"},
        "weekday": ["night"] * 14 + ["day"] * 20 + ["peak"] * 6 + ["day"] * 6 + ["night"] * 2,
        "weekend": ["night"] * 14 + ["day"] * 34,
        "holidays": "GB",
    },
    "BENCH-CMP-INDEXED": {
        "kind": "indexed",
        "market": "BENCH-SYN",
        "multiplier": "1.10",
        "adder_per_kwh": "0.08",
        "cap_per_kwh": "1.00",
    },
}


def _ensure_bench_tariffs() -> list[str]:
    """The comparison's candidate tariffs in the database (once): flat (the accounts' current one), a
    second flat, tiered, ToU with GB holidays and indexed on a synthetic market with a year of prices."""
    from decimal import Decimal

    from pricing.models import Tariff
    from pricing.services.markets import market_ensure, market_prices_import
    from pricing.services.tariffs import tariff_version_publish

    now = datetime(2026, 1, 1, tzinfo=UTC)
    if not Tariff.objects.filter(code="BENCH-CMP-INDEXED").exists():
        market_ensure(
            code="BENCH-SYN",
            currency="GBP",
            timezone="Europe/London",
            interval_minutes=30,
            day_ahead_results_at=dt_time(11, 0),
            name="bench synthetic market",
        )
        rng = np.random.default_rng(1)
        starts = [YEAR_FROM + timedelta(minutes=30) * i for i in range(HALF_HOURS + 1)]
        mwh = np.clip(rng.normal(90, 40, HALF_HOURS), 1, None).round(2)
        market_prices_import(
            market_code="BENCH-SYN",
            currency="GBP",
            prices=[(starts[i], starts[i + 1], Decimal(str(p))) for i, p in enumerate(mwh.tolist())],
            now=now,
        )
    for code, energy in BENCH_TARIFFS.items():
        _, created = Tariff.objects.get_or_create(code=code, defaults={"name": code, "direction": "IMPORT"})
        if created:
            tariff_version_publish(
                tariff_code=code,
                valid_from=datetime(2020, 1, 1, tzinfo=UTC),
                valid_to=None,
                document=_doc(energy),
                now=now,
            )
    return ["BENCH-CMP-FLAT", *BENCH_TARIFFS]


def bench_end_to_end(accounts: int) -> None:
    """The whole path as a stored run executes it: `tariff_comparison_compute_scenarios` over `accounts`
    seeded accounts × 5 tariffs (the current flat one among them, billed once) × 2023, loading each chunk of
    500 accounts (one row per meter) while the previous chunk is billed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from billing.services.comparison import tariff_comparison_compute_scenarios

    ids = seed_accounts(accounts)
    codes = _ensure_bench_tariffs()
    started, cpu = time.perf_counter(), time.process_time()
    load_before = os.getloadavg()[0]
    result = tariff_comparison_compute_scenarios(
        tariff_codes=codes, period_start=date(2023, 1, 1), period_end=date(2024, 1, 1), customer_ids=ids
    )[0]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    billed = sum(s.accounts for s in result.summaries[1:])
    held = sum(s.held for s in result.summaries[1:])
    print(f"end to end: {len(ids):,} accounts × {len(codes)} tariffs × 2023 (half-hourly) loaded from PostgreSQL "
          f"and billed: {seconds:.1f} s wall, {cpu:.1f} s CPU in this process (engine + decoding), "
          f"{seconds / len(ids) * 1000:.1f} ms per account wall; {billed:,} bills, {held} held; "
          f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"EXTRAPOLATED end to end for {TARGET_ACCOUNTS:,} accounts × {len(codes)} tariffs, linearly from the "
          f"per-account wall time (chunks of 500 are independent): {TARGET_ACCOUNTS * seconds / len(ids) / 60:.1f} "
          f"min in one process (+ its PostgreSQL backends) at this run's wall rate; "
          f"{TARGET_ACCOUNTS * cpu / len(ids) / 60:.1f} min of this process's CPU (add the loading's backend CPU "
          f"above, and divide the sum by the cores for a lower bound); target {TARGET_SECONDS / 60:.0f} min")  # fmt: skip


def _e2e_share(ids: list[int], codes: list[str]) -> tuple[float, float, float]:
    """One process's share of the end-to-end comparison (a fresh interpreter: spawn): wall, this process's
    CPU and its PostgreSQL backend's CPU, in seconds."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.db import connection

    from billing.services.comparison import tariff_comparison_compute_scenarios

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server, started, cpu = _process_cpu(backend), time.perf_counter(), time.process_time()
    tariff_comparison_compute_scenarios(
        tariff_codes=codes, period_start=date(2023, 1, 1), period_end=date(2024, 1, 1), customer_ids=ids
    )
    return time.perf_counter() - started, time.process_time() - cpu, _process_cpu(backend) - server


def bench_stored_run(accounts: int, workers: int) -> None:
    """A stored comparison run (`tariff_comparison_run_start`) over the seeded accounts on `workers` real
    Celery workers (solo pool, one process each) on a fresh Redis queue: the run's task fans the cohort out
    in chunks of `accounts / (2 × workers)` as a chord, the workers bill the chunks, the last task computes
    the statistics. Wall from the start to COMPLETED, CPU of the worker processes (their PostgreSQL backends
    not counted). Needs REDIS_URL."""
    import subprocess
    import uuid

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.conf import settings

    from billing.models import TariffComparisonRun
    from billing.services.comparison import Cohort, tariff_comparison_run_start
    from config.celery import app

    if not settings.REDIS_URL:
        print("stored run: skipped (no REDIS_URL)")
        return
    seed_accounts(accounts)
    codes = _ensure_bench_tariffs()
    chunk = max(1, accounts // (2 * workers))
    queue = f"bench-cmp-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "BILLING_COMPARISON_CHUNK_ACCOUNTS": str(chunk), "CELERY_TASK_ALWAYS_EAGER": "false"}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool", "solo",
               "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
    processes = [
        subprocess.Popen([*command, "-n", f"{queue}-{k}@%h"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        for k in range(workers)
    ]
    app.conf.task_always_eager = False
    try:
        time.sleep(10)  # the workers' start-up, not timed
        measured = []
        for _ in range(2):  # the first run warms the workers (imports, first tasks), the second is timed
            cpu_before = [_process_cpu(p.pid) for p in processes]
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            run = tariff_comparison_run_start(
                tariff_codes=codes,
                period_start=date(2023, 1, 1),
                period_end=date(2024, 1, 1),
                cohort=Cohort(feeder_code="BENCH"),
                now=datetime.now(UTC),
                queue=queue,
            )
            while run.status in (TariffComparisonRun.Status.PENDING, TariffComparisonRun.Status.RUNNING):
                time.sleep(0.2)
                run.refresh_from_db()
            seconds = time.perf_counter() - started
            cpu = [_process_cpu(p.pid) - before for p, before in zip(processes, cpu_before, strict=True)]
            measured.append((seconds, cpu))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    bills = len(run.results[0]["bills"]) if run.results else 0
    print(f"stored run, first (cold workers): {measured[0][0]:.1f} s wall, CPU "
          f"{', '.join(f'{c:.1f}' for c in measured[0][1])} s")  # fmt: skip
    print(f"stored run on {workers} Celery workers (chunks of {chunk}): {run.status} {run.error} "
          f"{run.progress_done:,}/{run.progress_total:,} accounts × {len(codes)} tariffs × 2023 in "
          f"{seconds:.1f} s wall ({bills:,} accounts' bills), CPU per worker "
          f"{', '.join(f'{c:.1f}' for c in cpu)} s = {sum(cpu) / max(bills, 1) * 1000:.1f} ms per account; "
          f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"EXTRAPOLATED stored run for {TARGET_ACCOUNTS:,} accounts on {workers} workers: "
          f"{TARGET_ACCOUNTS * seconds / max(bills, 1) / 60:.1f} min at this run's wall rate; "
          f"{TARGET_ACCOUNTS * sum(cpu) / max(bills, 1) / workers / 60:.1f} min if the {workers} cores were "
          f"the workers' (their CPU ÷ {workers}; PostgreSQL's loading CPU not counted)")  # fmt: skip


def bench_end_to_end_parallel(accounts: int, workers: int) -> None:
    """The whole comparison with the cohort split over `workers` processes (chunks of 500 accounts are
    independent, as separate Celery tasks of one stored run would compute them): wall for all, CPU of the
    processes and of their PostgreSQL backends (the loader threads' backends are not counted)."""
    import multiprocessing

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    ids = seed_accounts(accounts)
    codes = _ensure_bench_tariffs()
    shares = [ids[i::workers] for i in range(workers)]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_e2e_share, shares, [codes] * workers))
    wall = time.perf_counter() - started
    cpu = sum(r[1] for r in results)
    server = sum(r[2] for r in results)
    print(f"end to end in {workers} processes: {len(ids):,} accounts × {len(codes)} tariffs × 2023: {wall:.1f} s wall "
          f"(slowest share {max(r[0] for r in results):.1f} s, including Django start-up), CPU {cpu:.1f} s in the "
          f"processes + {server:.1f} s in their main PostgreSQL backends = {(cpu + server) / len(ids) * 1000:.1f} ms "
          f"per account; load average {load_before:.1f} → {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"EXTRAPOLATED end to end for {TARGET_ACCOUNTS:,} accounts × {len(codes)} tariffs on {workers} cores: "
          f"{TARGET_ACCOUNTS * wall / len(ids) / 60:.1f} min at this run's wall rate; "
          f"{TARGET_ACCOUNTS * (cpu + server) / len(ids) / workers / 60:.1f} min if the {workers} cores were ours "
          f"(CPU ÷ {workers}); target {TARGET_SECONDS / 60:.0f} min")  # fmt: skip


def bench_loaders(meters: int) -> None:
    """The per-reading loader (`reading_arrays`: binary COPY, one message per reading), the per-meter one
    packing `metering_reading` (before reading days) and the per-meter one reading the packed reading days
    (`meter_reading_arrays`) on the same `meters` seeded meters' year, twice each: wall, this process's CPU
    and its PostgreSQL backend's CPU."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.db import connection

    from metering.models import Meter
    from metering.selectors.readings import meter_reading_arrays, reading_arrays

    ids = np.array(
        sorted(Meter.objects.filter(serial__startswith="BENCH-CMP-").values_list("pk", flat=True))[:meters],
        dtype=np.int64,
    )
    start, end = datetime(2022, 12, 31, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    loaders = {
        "per reading (reading_arrays)": lambda: reading_arrays(meter_ids=ids, start=start, end=end),
        "per meter from the readings (before reading days)": lambda: _per_meter_from_readings(
            ids, start, end
        ),
        "per meter from reading days (meter_reading_arrays)": lambda: list(
            meter_reading_arrays(meter_ids=ids, start=start, end=end)
        ),
    }
    for _ in range(2):
        for name, load in loaders.items():
            server, cpu, wall = _process_cpu(backend), time.process_time(), time.perf_counter()
            load()
            print(f"loader {name}: {len(ids)} meter-years in {time.perf_counter() - wall:.2f} s wall, CPU "
                  f"{time.process_time() - cpu:.2f} s here + {_process_cpu(backend) - server:.2f} s in PostgreSQL; "
                  f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def _per_meter_from_readings(ids: np.ndarray, start: datetime, end: datetime) -> int:
    """The per-meter loader as it was before reading days: the server packs each meter's readings from
    `metering_reading` (one row per reading scanned); returns the readings received."""
    from django.db import connection

    query = (
        "COPY (SELECT meter_id, string_agg(timestamptz_send(interval_start), ''::bytea), "
        "string_agg(int8send((energy_kwh * 10000)::bigint), ''::bytea), "
        "string_agg(int2send(quality::smallint), ''::bytea) "
        "FROM metering_reading WHERE meter_id = ANY(%s) AND interval_start >= %s AND interval_start < %s "
        "GROUP BY meter_id) TO STDOUT (FORMAT BINARY)"
    )
    received = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(query, [[int(i) for i in ids], start, end]) as copy,
    ):
        copy.set_types(["int8", "bytea", "bytea", "bytea"])
        for _, starts, kwh, _quality in copy.rows():
            received += len(np.frombuffer(kwh, dtype=">i8"))
            np.frombuffer(starts, dtype=">i8")
    return received


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--db-accounts", type=int, default=0, help="also measure loading (needs DATABASE_URL)"
    )
    parser.add_argument(
        "--e2e-accounts",
        type=int,
        default=0,
        help="also run the whole comparison from PostgreSQL over that many seeded accounts",
    )
    parser.add_argument(
        "--compare-loaders", type=int, default=0, help="per-reading vs per-meter loader on that many meters"
    )
    parser.add_argument("--skip-engine", action="store_true", help="skip the engine-only measurement")
    parser.add_argument(
        "--run-workers",
        type=int,
        default=0,
        help="also run a stored comparison run over the e2e accounts on that many real Celery workers",
    )
    parser.add_argument(
        "--e2e-workers",
        type=int,
        default=0,
        help="also run the end-to-end comparison with the cohort split over that many processes",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          "(shared with other work: figures are upper bounds)")  # fmt: skip
    if not args.skip_engine:
        bench_engine(args.accounts, args.workers)
    if args.db_accounts:
        bench_loading(args.db_accounts)
    if args.e2e_accounts:
        bench_end_to_end(args.e2e_accounts)
    if args.e2e_workers and args.e2e_accounts:
        bench_end_to_end_parallel(args.e2e_accounts, args.e2e_workers)
    if args.run_workers and args.e2e_accounts:
        bench_stored_run(args.e2e_accounts, args.run_workers)
    if args.compare_loaders:
        bench_loaders(args.compare_loaders)


if __name__ == "__main__":
    main()
