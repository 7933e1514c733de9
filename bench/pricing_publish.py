"""Publishing a day of dynamic prices for 50 tariffs (rules, rates, breakdowns, ledger entries) on PostgreSQL,
then verifying the ledger. Prints total seconds, seconds per tariff and the verification time.

Each run publishes new tariffs (codes carry a run id), so the ledger grows by 50 entries per run; the
verification covers the whole ledger and says how many entries it checked.

    createdb h_dynamic_bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_dynamic_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_dynamic_bench .venv/bin/python bench/pricing_publish.py
"""

import argparse
import hashlib
import json
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection

from metering.models import LoadAggregate
from pricing.models import LedgerEntry, Market, MarketPrice, Tariff, TariffVersion
from pricing.selectors.ledger import ledger_verify
from pricing.services.dynamic import dynamic_prices_publish

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2024, 1, 15)
NOW = datetime(2024, 1, 14, 12, 30, tzinfo=UTC)
RULES = [
    {"kind": "market", "multiplier": "1.15", "adder_per_kwh": "0.08"},
    {
        "kind": "demand",
        "region": "bench",
        "capacity_kwh": "5000",
        "threshold": "0.6",
        "per_kwh_at_full": "0.12",
    },
    {"kind": "tou", "from": "17:00", "to": "20:00", "multiplier": "1.3"},
    {"kind": "weather", "normal_c": "15", "per_kwh_per_degree": "0.004"},
    {"kind": "cap", "per_kwh": "0.95"},
    {"kind": "floor", "per_kwh": "0"},
]


def setup(run: str, tariffs: int) -> list[str]:
    market, _ = Market.objects.get_or_create(
        code="DE-LU",
        defaults={"currency": "EUR", "timezone": "Europe/Berlin", "day_ahead_results_at": clock(13)},
    )
    start = datetime.combine(DAY, clock(0), tzinfo=BERLIN).astimezone(UTC)
    MarketPrice.objects.bulk_create(
        [
            MarketPrice(
                market=market,
                interval_start=start + timedelta(hours=h),
                interval_end=start + timedelta(hours=h + 1),
                price_per_mwh=Decimal(40 + (h * 37) % 120) - Decimal("0.25"),
                received_at=NOW,
            )
            for h in range(24)
        ],
        ignore_conflicts=True,
    )
    LoadAggregate.objects.bulk_create(
        [
            LoadAggregate(
                level=LoadAggregate.Level.REGION,
                code="bench",
                interval_start=start - timedelta(minutes=30 * i),
                interval_end=start - timedelta(minutes=30 * (i - 1)),
                import_kwh=Decimal(2500 + (i * 53) % 2500),
                export_kwh=Decimal(0),
                reading_count=100,
                estimated_count=0,
                updated_at=NOW,
            )
            for i in range(1, 7 * 48 + 1)
        ],
        ignore_conflicts=True,
    )
    codes = []
    for i in range(tariffs):
        code = f"BENCH-{run}-{i:02d}"
        document = {
            "format": "tariff/v1",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "energy": {"kind": "dynamic", "market": "DE-LU", "rules": RULES},
        }
        tariff = Tariff.objects.create(code=code, name=code)
        TariffVersion.objects.create(
            tariff=tariff,
            valid_from=datetime(2023, 12, 31, 23, tzinfo=UTC),
            document=document,
            kind="dynamic",
            document_sha256=hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest(),
            published_at=NOW,
        )
        codes.append(code)
    return codes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tariffs", type=int, default=50)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; figures are not representative", file=sys.stderr)
    codes = setup(str(int(time.time())), args.tariffs)
    start = datetime.combine(DAY, clock(0), tzinfo=BERLIN).astimezone(UTC)
    temperatures = {start + timedelta(hours=h): Decimal(str(2 + h % 10)) for h in range(24)}

    started = time.perf_counter()
    for code in codes:
        dynamic_prices_publish(tariff_code=code, day=DAY, now=NOW, temperatures=temperatures)
    total = time.perf_counter() - started

    started = time.perf_counter()
    report = ledger_verify()
    verify = time.perf_counter() - started
    assert report.ok, report

    print(f"publish {len(codes)} tariffs × 48 half-hours (6 rules, ledger included): {total:.2f} s")
    print(f"  per tariff: {total / len(codes) * 1000:.1f} ms")
    print(
        f"ledger verification of {report.entries_checked} entries: {verify:.3f} s "
        f"({verify / report.entries_checked * 1000:.2f} ms per entry); ledger has {LedgerEntry.objects.count()}"
    )


if __name__ == "__main__":
    main()
