"""Latency of `unitRates` over GraphQL (Django test Client, in-process, token with pricing:read) for one
month of half-hours (January 2024: 1,488 intervals) of a TOU tariff and of an indexed tariff priced from a
month of hourly market prices.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_tariffs_bench .venv/bin/python bench/pricing_unit_rates.py
    # without DATABASE_URL: a temporary SQLite file
"""

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from django.utils import timezone as django_timezone

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERY = """query($code: String!, $from: DateTime!, $to: DateTime!) {
  unitRates(tariffCode: $code, periodFrom: $from, periodTo: $to) { validFrom validTo valuePerKwh band } }"""


def main(requests: int = 60) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from core.services import api_client_create
    from pricing.models import Market, MarketPrice
    from pricing.services.tariffs import tariff_create, tariff_version_publish

    call_command("migrate", verbosity=0)
    stamp = int(time.time())
    start = datetime(2024, 1, 1, tzinfo=UTC)
    hours = ["off_peak"] * 7 + ["day"] * 9 + ["peak"] * 3 + ["day"] * 3 + ["off_peak"] * 2
    tou = {"kind": "tou", "rates_per_kwh": {"off_peak": "0.08", "day": "0.18", "peak": "0.32"},
           "weekday": hours, "weekend": ["off_peak"] * 24, "holidays": "GB"}  # fmt: skip
    market = Market.objects.create(
        code=f"B{stamp}"[:20], currency="EUR", timezone="Europe/Berlin", day_ahead_results_at="12:00"
    )
    MarketPrice.objects.bulk_create(
        MarketPrice(
            market=market,
            interval_start=start + timedelta(hours=h),
            interval_end=start + timedelta(hours=h + 1),
            price_per_mwh=Decimal((h * 37) % 250 - 40),
            received_at=start,
        )
        for h in range(31 * 24)
    )
    indexed = {"kind": "indexed", "market": market.code, "multiplier": "1.20", "adder_per_kwh": "0.05",
               "peak_adder": {"from": "16:00", "to": "19:00", "per_kwh": "0.12"}, "floor_per_kwh": "0.00"}  # fmt: skip
    tariffs = {}
    for kind, energy, zone in (("TOU", tou, "Europe/London"), ("IDX", indexed, "Europe/Berlin")):
        code = f"BENCH-{kind}-{stamp}"
        tariff_create(code=code, name=code, direction="IMPORT")
        document = {"format": "tariff/v1", "currency": "EUR", "timezone": zone, "energy": energy}
        tariff_version_publish(
            tariff_code=code, valid_from=start, valid_to=None, document=document, now=django_timezone.now()
        )
        tariffs[kind] = code
    client, _ = api_client_create(name=f"bench-rates-{stamp}", scopes=["pricing:read"])
    token = AccessToken.objects.create(
        application=client.application,
        token=f"bench-rates-{stamp}",
        scope="pricing:read",
        expires=timezone.now() + timedelta(hours=1),
    )
    http = Client(SERVER_NAME="127.0.0.1", headers={"Authorization": f"Bearer {token.token}"})
    print(
        f"database: {django.db.connection.vendor}; {requests} requests each; January 2024 (1,488 half-hours)"
    )
    for kind, code in tariffs.items():
        body = json.dumps(
            {
                "query": QUERY,
                "variables": {"code": code, "from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"},
            }
        )
        timings = []
        for i in range(requests + 3):
            began = time.perf_counter()
            response = http.post("/graphql/", body, content_type="application/json")
            elapsed = time.perf_counter() - began
            data = response.json()
            assert "errors" not in data, data["errors"]
            assert len(data["data"]["unitRates"]) == 1488
            if i >= 3:  # warm-up
                timings.append(elapsed * 1000)
        cuts = statistics.quantiles(timings, n=100)
        print(
            f"unitRates {kind:3}: p50 {cuts[49]:6.1f} ms  p95 {cuts[94]:6.1f} ms  ({len(timings)} requests)"
        )


if __name__ == "__main__":
    main()
