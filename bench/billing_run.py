"""A monthly bill run (October 2024, Europe/London: 1,490 half-hours) for N accounts, on PostgreSQL.

Creates BENCH-BILL accounts (customer, meter point, import meter, agreement on a flat tariff, or a TOU
tariff with --tou) with complete half-hourly readings (bulk ingest, COPY), kept between runs. Then for each
N: a bill run over the first N accounts (set-based, 500 accounts per chunk), printing wall time and
accounts/s; the run's draft invoices are deleted afterwards so the next N bills from scratch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_billrun_bench .venv/bin/python bench/billing_run.py \
        [--sizes 1000,2000,5000,10000] [--tou]
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def _create_database() -> None:
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    if url.scheme.startswith("postgres"):
        name = url.path.lstrip("/")
        subprocess.run(
            [
                "createdb",
                "-h",
                url.hostname or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                name,
            ],
            capture_output=True,
            check=False,
        )


_create_database()

import django

django.setup()

import numpy as np
from django.core.management import call_command

from billing.models import Agreement, BillRun, BillRunItem, Customer, Invoice, InvoiceLine
from billing.services.bill_runs import bill_run_execute
from metering.models import Meter, MeterPoint, Source
from metering.services.readings import readings_ingest
from metering.validation import ReadingArrays
from pricing.models import Tariff
from pricing.services.tariffs import tariff_version_publish

PREFIX = "BENCH-BILL-"
OCT_FROM = datetime(2024, 9, 30, 23, 0, tzinfo=UTC)
HALF_HOURS = 1490
INSTALLED = datetime(2020, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 11, 2, 9, 0, tzinfo=UTC)
INGEST_BATCH = 500


def tariff(tou: bool) -> Tariff:
    code = "BENCH-TOU" if tou else "BENCH-FLAT"
    found = Tariff.objects.filter(code=code).first()
    if found:
        return found
    found = Tariff.objects.create(code=code, name=code)
    energy = (
        {
            "kind": "tou",
            "rates_per_kwh": {"off_peak": "0.08", "peak": "0.30"},
            "weekday": ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5,
            "weekend": ["off_peak"] * 24,
            "holidays": "GB",
        }
        if tou
        else {"kind": "flat", "rate_per_kwh": "0.2450"}
    )
    document = {
        "format": "tariff/v1",
        "currency": "GBP",
        "timezone": "Europe/London",
        "standing_charge_per_day": "0.4500",
        "energy": energy,
        "tax": {"name": "VAT", "rate": "0.05"},
    }
    tariff_version_publish(tariff_code=code, valid_from=INSTALLED, valid_to=None, document=document, now=NOW)
    return found


def setup_accounts(n: int, plan: Tariff) -> list[str]:
    have = Customer.objects.filter(account_number__startswith=PREFIX).count()
    if have < n:
        print(f"creating {n - have} accounts ...", flush=True)
        started = time.perf_counter()
        points = MeterPoint.objects.bulk_create(
            [MeterPoint(identifier=f"{PREFIX}MP-{i:06d}") for i in range(have, n)], batch_size=5000
        )
        meters = Meter.objects.bulk_create(
            [
                Meter(meter_point=p, serial=f"{PREFIX}M-{p.identifier[-6:]}", installed_at=INSTALLED)
                for p in points
            ],
            batch_size=5000,
        )
        customers = Customer.objects.bulk_create(
            [Customer(account_number=f"{PREFIX}{i:06d}", name=f"Bench {i}") for i in range(have, n)],
            batch_size=5000,
        )
        Agreement.objects.bulk_create(
            [
                Agreement(customer=c, meter_point=p, import_tariff=plan, valid_from=INSTALLED)
                for c, p in zip(customers, points, strict=True)
            ],
            batch_size=5000,
        )
        rng = np.random.default_rng(7)
        first = np.datetime64(int(OCT_FROM.timestamp()), "s")
        starts = first + np.arange(HALF_HOURS, dtype=np.int64) * np.timedelta64(1800, "s")
        ids = np.array([m.pk for m in meters], dtype=np.int64)
        for offset in range(0, len(ids), INGEST_BATCH):
            batch = ids[offset : offset + INGEST_BATCH]
            rows = len(batch) * HALF_HOURS
            readings_ingest(
                readings=ReadingArrays(
                    meter_id=np.repeat(batch, HALF_HOURS),
                    start=np.tile(starts, len(batch)),
                    end=np.tile(starts + np.timedelta64(1800, "s"), len(batch)),
                    kwh_e4=rng.integers(0, 20_000, rows, dtype=np.int64),
                    kwh_reject=np.zeros(rows, dtype=np.int8),
                ),
                source=Source.SIMULATOR,
                now=NOW,
            )
            print(f"  ingested {offset + len(batch)} meters", flush=True)
        print(f"setup took {time.perf_counter() - started:.1f} s", flush=True)
    return list(
        Customer.objects.filter(account_number__startswith=PREFIX)
        .order_by("account_number")
        .values_list("account_number", flat=True)[:n]
    )


def clear_drafts() -> None:
    runs = BillRun.objects.filter(idempotency_key__startswith="bench-")
    InvoiceLine.objects.filter(invoice__bill_run__in=runs).delete()
    Invoice.objects.filter(bill_run__in=runs).delete()
    BillRunItem.objects.filter(bill_run__in=runs).delete()
    runs.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--tou", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    call_command("migrate", verbosity=0)
    plan = tariff(args.tou)
    accounts = setup_accounts(max(sizes), plan)
    clear_drafts()
    print(f"{'accounts':>9} {'wall s':>8} {'accounts/s':>11} {'invoices':>9} {'held':>5}")
    for n in sizes:
        # The run as `bill_run_start` records it, without handing it to Celery (which, with no broker
        # configured, would execute it in-process before the clock starts).
        run = BillRun.objects.create(
            period_start=date(2024, 10, 1),
            period_end=date(2024, 11, 1),
            idempotency_key=f"bench-{n}-{time.time_ns()}",
            account_numbers=accounts[:n],
        )
        started = time.perf_counter()
        run = bill_run_execute(bill_run_id=run.pk, now=NOW)
        wall = time.perf_counter() - started
        print(f"{n:>9} {wall:>8.2f} {n / wall:>11.0f} {run.invoice_count:>9} {run.held_count:>5}", flush=True)
        clear_drafts()


if __name__ == "__main__":
    main()
