"""Fetching day-ahead prices through the feeds: the due-markets task and the one-market task."""

import datetime as dt
from decimal import Decimal

import pytest

from pricing.models import MarketPrice
from pricing.services.markets import market_ensure
from pricing.tasks.markets import market_prices_fetch, market_prices_fetch_due

pytestmark = pytest.mark.django_db

# Two local days of DE-LU (Berlin, CET = UTC+1) and ERCOT (Chicago, CST = UTC-6), hourly.
START = dt.datetime(2024, 1, 14, 23, tzinfo=dt.UTC)


@pytest.fixture
def wide_file(tmp_path):
    path = tmp_path / "prices.csv"
    rows = ["timestamp_utc,DE_LU_EUR_MWh,ERCOT_HB_HUBAVG_USD_MWh"]
    for h in range(24 * 3):
        rows.append(f"{(START + dt.timedelta(hours=h)):%Y-%m-%dT%H:%M:%SZ},{h}.25,-{h}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def markets(wide_file):
    return (
        market_ensure(code="DE-LU", feed_config={"path": str(wide_file), "column": "DE_LU"}),
        market_ensure(
            code="ERCOT", feed_config={"path": str(wide_file), "column": "ERCOT_HB_HUBAVG_USD_MWh"}
        ),
    )


def test_only_markets_whose_results_time_has_passed_are_fetched(markets):
    now = dt.datetime(2024, 1, 15, 12, tzinfo=dt.UTC)  # 13:00 in Berlin (after 12:45), 06:00 in Chicago

    outcome = market_prices_fetch_due(now=now.isoformat())

    assert outcome == {
        "DE-LU": {"day": "2024-01-16", "accepted": 24, "duplicates": 0, "revised": 0, "rejected": 0}
    }
    assert MarketPrice.objects.filter(market__code="DE-LU").count() == 24
    assert not MarketPrice.objects.filter(market__code="ERCOT").exists()
    first = MarketPrice.objects.filter(market__code="DE-LU").order_by("interval_start").first()
    assert first.interval_start == dt.datetime(2024, 1, 15, 23, tzinfo=dt.UTC)
    assert first.price_per_mwh == Decimal("24.25")


def test_fetching_due_markets_again_changes_nothing(markets):
    now = dt.datetime(2024, 1, 15, 20, tzinfo=dt.UTC)  # 21:00 in Berlin, 14:00 in Chicago: both due
    first = market_prices_fetch_due(now=now)
    stored = list(MarketPrice.objects.order_by("pk").values())

    again = market_prices_fetch_due(now=now + dt.timedelta(minutes=15))

    assert set(first) == {"DE-LU", "ERCOT"}
    assert again == {}
    assert list(MarketPrice.objects.order_by("pk").values()) == stored


def test_a_failing_market_does_not_stop_the_others(markets, caplog):
    de_lu, _ = markets
    de_lu.feed_config = {"path": "/nonexistent.csv", "column": "DE_LU"}
    de_lu.save()

    outcome = market_prices_fetch_due(now=dt.datetime(2024, 1, 15, 20, tzinfo=dt.UTC))

    assert "No such file" in outcome["DE-LU"]["error"]
    assert outcome["ERCOT"]["accepted"] == 24
    assert "Fetching day-ahead prices of DE-LU" in caplog.text


def test_one_market_can_be_fetched_for_a_given_day_idempotently(markets):
    first = market_prices_fetch("ERCOT", "2024-01-15", now="2024-01-20T00:00:00+00:00")
    again = market_prices_fetch("ERCOT", "2024-01-15", now="2024-01-20T00:00:00+00:00")

    assert first == {"accepted": 24, "duplicates": 0, "revised": 0, "rejected": 0}
    assert again == {"accepted": 0, "duplicates": 24, "revised": 0, "rejected": 0}
