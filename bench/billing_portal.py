"""The portal's account page for an account with a year of half-hourly readings: median server time.

Creates (once, kept between runs) the account BENCH-PORTAL: a customer with a portal login, a meter point
with an import meter, a TOU tariff with a standing charge and VAT, 366 days of half-hourly readings up to
now (bulk ingest through the metering service: validation + COPY; one day estimated) and a year of monthly
issued bills. Then GETs `/` (the account page: today's and tomorrow's rates, 30 days by day, a day by
half-hour, the month projection, balance, activity, bills) with Django's test client, in-process: the time
is the server's (view, selectors, queries, template), no network. Also times a bill page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_bill_portal_bench .venv/bin/python bench/billing_portal.py \
        [--runs 15]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def _create_database() -> None:
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    if url.scheme.startswith("postgres"):
        subprocess.run(
            ["createdb", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U",
             url.username or "postgres", url.path.lstrip("/")],
            capture_output=True,
            check=False,
        )  # fmt: skip


_create_database()

import django

django.setup()

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Agreement, Customer, Invoice
from metering.models import Meter, MeterPoint, Quality, Source
from metering.services.readings import readings_ingest
from metering.validation import ReadingArrays
from pricing.models import Tariff
from pricing.services.tariffs import tariff_version_publish

ACCOUNT = "BENCH-PORTAL"
DAYS = 366
INSTALLED = datetime(2020, 1, 1, tzinfo=UTC)


def setup() -> tuple[Customer, str]:
    customer = Customer.objects.filter(account_number=ACCOUNT).first()
    if customer is not None:
        return customer, Invoice.objects.filter(customer=customer).order_by("-period_start").first().number
    started = time.perf_counter()
    now = timezone.now()
    user = get_user_model().objects.create_user(username="bench-portal", password=None)  # force_login only
    tariff = Tariff.objects.create(code="BENCH-PORTAL-TOU", name="Bench ToU")
    tariff_version_publish(
        tariff_code=tariff.code,
        valid_from=INSTALLED,
        valid_to=None,
        document={
            "format": "tariff/v1",
            "currency": "GBP",
            "timezone": "Europe/London",
            "standing_charge_per_day": "0.4500",
            "energy": {
                "kind": "tou",
                "rates_per_kwh": {"off_peak": "0.08", "peak": "0.30"},
                "weekday": ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5,
                "weekend": ["off_peak"] * 24,
            },
            "tax": {"name": "VAT", "rate": "0.05"},
        },
        now=now,
    )
    point = MeterPoint.objects.create(identifier="BENCH-PORTAL-MPAN")
    meter = Meter.objects.create(meter_point=point, serial="BENCH-PORTAL-M", installed_at=INSTALLED)
    customer = Customer.objects.create(account_number=ACCOUNT, name="Bench Portal", user=user)
    Agreement.objects.create(customer=customer, meter_point=point, import_tariff=tariff, valid_from=INSTALLED)
    # A year of half-hours up to the last whole half-hour, in one set-based ingest (COPY).
    end = now.replace(minute=(now.minute // 30) * 30, second=0, microsecond=0)
    first = end - timedelta(days=DAYS)
    count = int((end - first).total_seconds() // 1800)
    starts = np.datetime64(int(first.timestamp()), "s") + np.arange(count) * np.timedelta64(1800, "s")
    rng = np.random.default_rng(11)
    kwh = rng.integers(500, 6_000, count, dtype=np.int64)
    estimated = (starts >= np.datetime64(int((end - timedelta(days=5)).timestamp()), "s")) & (
        starts < np.datetime64(int((end - timedelta(days=4)).timestamp()), "s")
    )
    for mask, quality in ((~estimated, Quality.ACTUAL), (estimated, Quality.ESTIMATED)):
        n = int(mask.sum())
        readings_ingest(
            readings=ReadingArrays(
                meter_id=np.full(n, meter.pk, dtype=np.int64),
                start=starts[mask],
                end=starts[mask] + np.timedelta64(1800, "s"),
                kwh_e4=kwh[mask],
                kwh_reject=np.zeros(n, dtype=np.int8),
            ),
            source=Source.SIMULATOR,
            now=now,
            quality=quality,
        )
    # A year of monthly bills, issued on the 3rd of the next month.
    month = date(now.year - 1, now.month, 1)
    bills = []
    for i in range(12):
        following = (month + timedelta(days=32)).replace(day=1)
        total = Decimal("60.00") + i
        bills.append(
            Invoice(
                number=f"BENCH-P-{i:04d}",
                customer=customer,
                period_start=month,
                period_end=following,
                status=Invoice.Status.ISSUED,
                currency="GBP",
                net_amount=total,
                tax_amount=Decimal("3.00"),
                total_amount=total + Decimal("3.00"),
                readings_as_of=now,
                issued_at=datetime(following.year, following.month, 3, tzinfo=UTC),
            )
        )
        month = following
    Invoice.objects.bulk_create(bills)
    print(f"created {count} half-hourly readings and 12 bills in {time.perf_counter() - started:.1f} s")
    return customer, bills[-1].number or ""


def timed(client: Client, url: str, runs: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU (this process: Django, not PostgreSQL) milliseconds per request, and the query count."""
    client.get(url)  # warm: templates, first connection, the day's cached projection
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return times, cpu, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", verbosity=0)
    customer, bill = setup()
    client = Client()
    client.force_login(customer.user)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for label, url in (("account page /", "/"), (f"bill page /bills/{bill}/", f"/bills/{bill}/")):
        reset_queries()
        times, cpu, queries = timed(client, url, args.runs)
        print(
            f"{label}: median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, "
            f"max {max(times):.0f} ms over {args.runs} runs (Django CPU median {statistics.median(cpu):.0f} ms);"
            f" {queries} SQL queries"
        )
    # The first request of a day computes the month projection (cached for the day): time it cold.
    from django.core.cache import cache

    cache.clear()
    started = time.perf_counter()
    client.get("/")
    print(
        f"account page with the projection computed (cold cache): {(time.perf_counter() - started) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
