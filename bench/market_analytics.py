"""Market analytics on real day-ahead prices: DE_LU for the local year 2023, with figures and timings, plus
the time to clear a synthetic auction. The data file is internal: it is read in place, never copied into the
repo.

    .venv/bin/python bench/market_analytics.py [path/to/day_ahead_prices_hourly_2020_2024_wide.csv]
"""

import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pricing import analytics
from pricing.clearing import Order, clear

DEFAULT_CSV = Path("/work/shared/data/prices/day_ahead_prices_hourly_2020_2024_wide.csv")
DE_LU, ERCOT = "DE_LU_EUR_MWh", "ERCOT_HB_HUBAVG_USD_MWh"


def timed(label: str, function: Callable[[], Any], show: Callable[[Any], Any] = lambda result: result) -> Any:
    started = time.perf_counter()
    result = function()
    print(f"{label:<34} {(time.perf_counter() - started) * 1000:8.1f} ms   {show(result)}")
    return result


def load(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, usecols=["timestamp_utc", DE_LU, ERCOT])
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp_utc"), utc=True))
    return frame


def check_known_facts(frame: pd.DataFrame) -> None:
    """The file's two famous hours: the SDAC floor on a sunny Sunday and ERCOT during winter storm Uri."""
    de_floor = frame.at[pd.Timestamp("2023-07-02T12:00Z"), DE_LU]
    ercot_uri = frame.at[pd.Timestamp("2021-02-17T06:00Z"), ERCOT]
    assert round(de_floor, 2) == -500.00, de_floor
    assert round(ercot_uri, 2) == 8995.26, ercot_uri
    print(f"known facts hold: DE_LU 2023-07-02T12Z {de_floor:.2f}, ERCOT 2021-02-17T06Z {ercot_uri:.2f}")


def de_lu_2023(frame: pd.DataFrame) -> None:
    local = frame.index.tz_convert("Europe/Berlin")
    prices = frame.loc[local.year == 2023, DE_LU]
    missing = prices.index[prices.isna()].strftime("%Y-%m-%dT%H:%MZ").tolist()
    print(f"\nDE_LU, local year 2023 (EUR/MWh): {len(prices)} hours, skipped {missing}")
    timed(
        "period_summary",
        lambda: analytics.period_summary(prices, timezone="Europe/Berlin"),
        show=lambda summary: (
            f"base {summary.average}, peak {summary.peak_average}, off-peak {summary.off_peak_average}, "
            f"min {summary.minimum}, max {summary.maximum}"
        ),
    )
    timed(
        "period_averages",
        lambda: analytics.period_averages(prices, timezone="Europe/Berlin"),
        show=lambda days: f"{len(days)} days, hours per day {sorted({day.hours for day in days})}",
    )
    timed("volatility (per hour)", lambda: round(analytics.volatility(prices), 2))
    timed("volatility, trailing 30 days", lambda: round(analytics.volatility(prices, window=720), 2))
    timed("volatility, annualised", lambda: round(analytics.volatility(prices, annualise=True), 1))
    for confidence, side, horizon in (
        (0.95, "buyer", 1),
        (0.95, "seller", 1),
        (0.99, "buyer", 1),
        (0.99, "seller", 1),
        (0.95, "buyer", 24),
    ):
        timed(
            f"VaR, ES {confidence:.0%} {horizon}h {side}",
            lambda c=confidence, s=side, h=horizon: (
                analytics.value_at_risk(prices, confidence=c, horizon_hours=h, side=s),
                analytics.expected_shortfall(prices, confidence=c, horizon_hours=h, side=s),
            ),
            show=lambda figures: f"{figures[0]}, {figures[1]}",
        )
    for scenario, params in (
        ("renewable_surge", {"timezone": "Europe/Berlin"}),
        ("supply_shortage", {"timezone": "Europe/Berlin"}),
        ("demand_spike", {}),
    ):
        timed(
            f"stress_summary {scenario}",
            lambda s=scenario, p=params: analytics.stress_summary(prices, s, **p),
            show=lambda summary: ", ".join(
                f"{name} {summary[name]['baseline']} -> {summary[name]['stressed']}"
                for name in ("average", "maximum", "var95")
            ),
        )


def clearing_time(orders_per_side: int = 5000) -> None:
    rng = random.Random(2023)

    def orders() -> list[Order]:
        return [
            Order(Decimal(rng.randint(-5000, 30000)) / 100, Decimal(rng.randint(1, 500)) / 10)
            for _ in range(orders_per_side)
        ]

    offers, bids = orders(), orders()
    print()
    timed(
        f"clear {orders_per_side} offers x {orders_per_side} bids",
        lambda: clear(offers, bids),
        show=lambda result: f"price {result.price}, volume {result.volume} MWh",
    )


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV
    frame = timed("read csv", lambda: load(path), show=lambda frame: f"{len(frame)} rows")
    check_known_facts(frame)
    de_lu_2023(frame)
    clearing_time()


if __name__ == "__main__":
    main()
