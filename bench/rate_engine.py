"""Rate engine speed: one year of half-hours (2023, 17,520 intervals) in Europe/London for each kind of
energy charge, on synthetic hourly market prices. Prints the median of the runs and intervals per second.

    .venv/bin/python bench/rate_engine.py            # 50 runs per kind
"""

import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pricing.documents import TariffDocument, parse_tariff_document
from pricing.engine import Event, PriceSeries, tier_split, unit_rates

RUNS = 50
LONDON = ZoneInfo("Europe/London")
HALF_HOUR = np.timedelta64(1800, "s")
HOUR = np.timedelta64(3600, "s")
DAY = ["off_peak"] * 14 + ["day"] * 18 + ["peak"] * 6 + ["day"] * 10


def document(energy: dict, **top_level: object) -> TariffDocument:
    return parse_tariff_document(
        {"format": "tariff/v1", "currency": "GBP", "timezone": "Europe/London", "energy": energy, **top_level}
    )


def median_ms(run: Callable[[], object]) -> float:
    run()  # warm caches (holiday calendars, pandas time-zone tables)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    rng = np.random.default_rng(2023)
    starts = np.arange(
        np.datetime64("2023-01-01T00:00", "s"), np.datetime64("2024-01-01T00:00", "s"), HALF_HOUR
    )
    hours = np.arange(starts[0], starts[-1] + HALF_HOUR, HOUR)
    market = PriceSeries(
        starts=hours,
        ends=hours + HOUR,
        values_micros=rng.integers(-100_000_000, 400_000_000, len(hours)).astype(
            np.int64
        ),  # -100..400 per MWh
    )
    published = PriceSeries(
        starts=starts,
        ends=starts + HALF_HOUR,
        values_micros=rng.integers(-50_000, 600_000, len(starts)).astype(np.int64),
    )
    kwh_e4 = rng.integers(0, 20_000, len(starts)).astype(np.int64)  # up to 2 kWh per half-hour
    events = [
        Event(
            "emergency" if day % 5 == 0 else "critical_peak",
            datetime(2023, 1, 2, 16, tzinfo=LONDON) + timedelta(days=7 * day),
            datetime(2023, 1, 2, 19, tzinfo=LONDON) + timedelta(days=7 * day),
        )
        for day in range(50)
    ]
    rates = {"off_peak": "0.08", "day": "0.15", "peak": "0.30"}
    summer = ["off_peak"] * 7 + ["day"] * 17
    monthly = [summer if month in (5, 6, 7, 8) else DAY[::2] for month in range(12)]
    tou = {
        "kind": "tou",
        "rates_per_kwh": rates,
        "weekday": DAY,
        "weekend": ["off_peak"] * 48,
        "holidays": "GB",
    }
    flat = document({"kind": "flat", "rate_per_kwh": "0.2450"})
    tiered = document(
        {
            "kind": "tiered",
            "tiers": [
                {"up_to_kwh": "1000", "rate_per_kwh": "0.20"},
                {"up_to_kwh": "3000", "rate_per_kwh": "0.25"},
                {"up_to_kwh": None, "rate_per_kwh": "0.30"},
            ],
        }
    )
    tou_48 = document(tou)
    tou_monthly = document({"kind": "tou", "rates_per_kwh": rates, "weekday": monthly, "weekend": monthly})
    indexed = document(
        {
            "kind": "indexed",
            "market": "GB-N2EX",
            "multiplier": "1.20",
            "adder_per_kwh": "0.05",
            "peak_adder": {"from": "16:00", "to": "19:00", "per_kwh": "0.12"},
            "cap_per_kwh": "0.60",
            "floor_per_kwh": "0.00",
        }
    )
    dynamic = document({"kind": "dynamic", "market": "GB-N2EX"})
    with_events = document(
        tou, events={"critical_peak": {"rate_per_kwh": "0.60"}, "emergency": {"rate_per_kwh": "1.20"}}
    )
    cases: dict[str, Callable[[], object]] = {
        "flat": lambda: unit_rates(flat, starts),
        "tiered (tier_split)": lambda: tier_split(tiered, kwh_e4),
        "tou 48-slot + GB holidays": lambda: unit_rates(tou_48, starts),
        "tou monthly 24-slot": lambda: unit_rates(tou_monthly, starts),
        "indexed peak/cap/floor": lambda: unit_rates(indexed, starts, market=market),
        "dynamic (published)": lambda: unit_rates(dynamic, starts, published=published),
        "tou 48-slot + 50 events": lambda: unit_rates(with_events, starts, events=events),
    }
    print(f"{len(starts):,} half-hours (2023, Europe/London), median of {RUNS} runs")
    for name, run in cases.items():
        ms = median_ms(run)
        print(f"  {name:<28} {ms:7.2f} ms  {len(starts) / ms * 1000:>13,.0f} intervals/s")


if __name__ == "__main__":
    main()
