"""The demo's pricing steps: the Low Carbon London trial's two real tariffs of 2013, and one example
tariff of every other kind for staff to look at."""

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from pricing.services.dynamic import AnnouncedRate, announced_rates_publish
from pricing.services.market_feeds import market_prices_import_file
from pricing.services.tariffs import tariff_create, tariff_version_publish


def demo_document(energy: dict) -> dict:
    """A `tariff/v1` document of the demo: GBP, London time, 0.15 standing charge a day, 5 % VAT."""
    return {
        "format": "tariff/v1",
        "currency": "GBP",
        "timezone": "Europe/London",
        "standing_charge_per_day": "0.1500",
        "energy": energy,
        "tax": {"name": "VAT", "rate": "0.05"},
    }


def demo_trial_tariffs_publish(
    *,
    flat_code: str,
    dtou_code: str,
    dtou_schedule: Path,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
) -> tuple[int, int]:
    """Publish the Low Carbon London trial's two real tariffs of 2013 and the dToU rates of
    `[period_start, period_end)`; return (days of rates, new publications).

    The flat rate (14.228 p/kWh) of the standard households, and the dynamic time-of-use tariff of the
    ToU households: its rates were announced by the trial a day ahead (Low 3.99, Normal 11.76, High
    67.20 p/kWh), so they are published as announced rates, not computed by the rule engine. A dynamic
    document must name a market; "LCL-DTOU" names the trial's announcements (no such market is loaded,
    and the document has no rules: the engine has nothing to compute for it).
    """
    tariff_create(code=flat_code, name="Low Carbon London flat rate 2013")
    tariff_version_publish(
        tariff_code=flat_code,
        valid_from=period_start,
        valid_to=None,
        document=demo_document({"kind": "flat", "rate_per_kwh": "0.14228"}),
        now=now,
    )
    tariff_create(code=dtou_code, name="Low Carbon London dynamic time-of-use 2013")
    tariff_version_publish(
        tariff_code=dtou_code,
        valid_from=period_start,
        valid_to=datetime(2014, 1, 1, tzinfo=UTC),
        document=demo_document({"kind": "dynamic", "market": "LCL-DTOU", "rules": []}),
        now=now,
    )
    days: dict[date, list[AnnouncedRate]] = defaultdict(list)
    with dtou_schedule.open(newline="") as rows:
        for row in csv.DictReader(rows):
            start = datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC)  # GMT, as the trial
            if period_start <= start < period_end:
                rate = Decimal(row["dtou_price_p_per_kwh"]) / 100
                days[start.date()].append(
                    AnnouncedRate(start, start + timedelta(minutes=30), rate, row["dtou_band"])
                )
    # Announced the day before, at noon (the trial announced a day ahead).
    created = 0
    for day, rates in sorted(days.items()):
        announced_at = datetime.combine(day - timedelta(days=1), time(12), UTC)
        outcome = announced_rates_publish(tariff_code=dtou_code, day=day, rates=rates, now=announced_at)
        created += outcome.created
    return len(days), created


def demo_example_tariffs_publish(*, valid_from: datetime, ercot_prices: Path, now: datetime) -> None:
    """Example tariffs of the remaining kinds (tiered, time-of-use, indexed), with no customers.

    Indexed needs market prices: `ercot_prices` is the committed public ERCOT sample (winter storm Uri,
    February 2021), and the indexed tariff is valid over those two weeks.
    """
    tariff_create(code="DEMO-TIERED", name="Demo tiered (example rates)")
    tariff_version_publish(
        tariff_code="DEMO-TIERED",
        valid_from=valid_from,
        valid_to=None,
        document=demo_document(
            {
                "kind": "tiered",
                "tiers": [
                    {"up_to_kwh": "300", "rate_per_kwh": "0.1200"},
                    {"up_to_kwh": None, "rate_per_kwh": "0.1600"},
                ],
            }
        ),
        now=now,
    )
    tariff_create(code="DEMO-TOU", name="Demo time-of-use, peak 16:00-19:00 weekdays (example rates)")
    weekday = ["off_peak"] * 14 + ["day"] * 18 + ["peak"] * 6 + ["day"] * 8 + ["off_peak"] * 2
    tariff_version_publish(
        tariff_code="DEMO-TOU",
        valid_from=valid_from,
        valid_to=None,
        document=demo_document(
            {
                "kind": "tou",
                "rates_per_kwh": {"off_peak": "0.0800", "day": "0.1500", "peak": "0.3000"},
                "weekday": weekday,
                "weekend": ["off_peak"] * 14 + ["day"] * 32 + ["off_peak"] * 2,
                "holidays": "GB",
            }
        ),
        now=now,
    )
    market_prices_import_file(path=ercot_prices, now=now, market_codes=["ERCOT"], create_markets=True)
    tariff_create(code="DEMO-INDEXED-ERCOT", name="Demo indexed on ERCOT day-ahead (example terms)")
    tariff_version_publish(
        tariff_code="DEMO-INDEXED-ERCOT",
        valid_from=datetime(2021, 2, 10, 6, tzinfo=UTC),
        valid_to=datetime(2021, 2, 25, 6, tzinfo=UTC),
        document={
            "format": "tariff/v1",
            "currency": "USD",
            "timezone": "America/Chicago",
            "standing_charge_per_day": "0.3000",
            "energy": {
                "kind": "indexed",
                "market": "ERCOT",
                "multiplier": "1.00",
                "adder_per_kwh": "0.0400",
                "cap_per_kwh": "1.00",
                "floor_per_kwh": "0.00",
            },
        },
        now=now,
    )
