"""market_prices_import: counts, revisions, validation, idempotency and DST alignment."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.errors import DomainError
from pricing.models import Market, MarketPrice, MarketPriceRevision
from pricing.selectors.markets import market_price_revision_list
from pricing.services.markets import (
    market_ensure,
    market_price_revisions_mark_reviewed,
    market_prices_import,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2024, 1, 20, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def hours(start: dt.datetime, prices: list[str]) -> list[tuple[dt.datetime, dt.datetime, Decimal]]:
    return [
        (start + dt.timedelta(hours=i), start + dt.timedelta(hours=i + 1), Decimal(p))
        for i, p in enumerate(prices)
    ]


def local_day_hours(day: dt.date, zone: ZoneInfo) -> list[dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(UTC)
    return [start + dt.timedelta(hours=i) for i in range(int((end - start) / dt.timedelta(hours=1)))]


@pytest.fixture
def de():
    return market_ensure(code="DE-LU")


def test_market_ensure_uses_the_known_defaults_and_is_idempotent():
    first = market_ensure(code="ERCOT")
    again = market_ensure(code="ERCOT")

    assert again.pk == first.pk
    assert (first.currency, first.timezone, first.interval_minutes) == ("USD", "America/Chicago", 60)
    assert first.day_ahead_results_at == dt.time(13, 0)
    assert market_ensure(code="DE-LU").day_ahead_results_at == dt.time(12, 45)


def test_market_ensure_refuses_to_change_the_currency_of_an_existing_market():
    market_ensure(code="FR")

    with pytest.raises(DomainError) as error:
        market_ensure(code="FR", currency="USD")

    assert error.value.code == "market_exists"
    assert Market.objects.get(code="FR").currency == "EUR"


def test_import_counts_accepted_duplicates_and_revised(de):
    start = dt.datetime(2024, 1, 15, tzinfo=UTC)
    first = market_prices_import(
        market_code="DE-LU", currency="EUR", prices=hours(start, ["10", "20"]), now=NOW
    )

    second = market_prices_import(
        market_code="DE-LU", currency="EUR", prices=hours(start, ["10", "25", "30"]), now=NOW
    )

    assert (first.accepted, first.duplicates, first.revised) == (2, 0, 0)
    assert (second.accepted, second.duplicates, second.revised) == (2, 1, 1)
    assert [p.price_per_mwh for p in MarketPrice.objects.order_by("interval_start")] == [10, 25, 30]


def test_a_revised_settled_price_is_kept_and_flagged_for_review(de):
    settled_start = dt.datetime(2024, 1, 15, tzinfo=UTC)
    future_start = dt.datetime(2024, 1, 21, tzinfo=UTC)
    market_prices_import(
        market_code="DE-LU",
        currency="EUR",
        prices=hours(settled_start, ["50"]) + hours(future_start, ["60"]),
        now=NOW,
    )

    result = market_prices_import(
        market_code="DE-LU",
        currency="EUR",
        prices=hours(settled_start, ["55"]) + hours(future_start, ["65"]),
        now=NOW,
    )

    assert (result.revised, result.settled_revisions) == (2, 1)
    settled = MarketPriceRevision.objects.get(settled=True)
    assert (settled.old_price_per_mwh, settled.new_price_per_mwh, settled.reviewed) == (50, 55, False)
    assert settled.interval_start == settled_start
    assert list(market_price_revision_list(to_review=True)) == [settled]
    assert MarketPrice.objects.get(interval_start=settled_start).revised_at == NOW

    assert market_price_revisions_mark_reviewed(revision_ids=[settled.pk]) == 1
    assert not market_price_revision_list(to_review=True).exists()


def test_negative_prices_are_stored_exactly(de):
    start = dt.datetime(2023, 7, 2, 12, tzinfo=UTC)

    result = market_prices_import(
        market_code="DE-LU", currency="EUR", prices=hours(start, ["-500.00"]), now=NOW
    )

    assert result.accepted == 1
    assert MarketPrice.objects.get().price_per_mwh == Decimal("-500.0000")


def test_bad_rows_are_rejected_with_code_and_field_and_not_written(de):
    start = dt.datetime(2024, 1, 15, tzinfo=UTC)
    naive = dt.datetime(2024, 1, 15, 5)  # noqa: DTZ001 - the point of the test
    prices = [
        *hours(start, ["1"]),
        (naive, naive + dt.timedelta(hours=1), Decimal(1)),
        (start + dt.timedelta(hours=2), start + dt.timedelta(hours=2), Decimal(1)),
        (start + dt.timedelta(hours=3), start + dt.timedelta(hours=3, minutes=30), Decimal(1)),
        (start + dt.timedelta(hours=4, minutes=15), start + dt.timedelta(hours=5, minutes=15), Decimal(1)),
        (start + dt.timedelta(hours=6), start + dt.timedelta(hours=7), Decimal("NaN")),
        (start + dt.timedelta(hours=7), start + dt.timedelta(hours=8), Decimal("100000")),
        (start + dt.timedelta(hours=8), start + dt.timedelta(hours=9), Decimal("1.00001")),
        (start, start + dt.timedelta(hours=1), Decimal("2")),
    ]

    result = market_prices_import(market_code="DE-LU", currency="EUR", prices=prices, now=NOW)

    assert result.accepted == 1
    assert [(r["index"], r["code"], r["field"]) for r in result.rejected] == [
        (1, "naive_timestamp", "interval_start"),
        (2, "empty_interval", "interval_end"),
        (3, "wrong_interval_length", "interval_end"),
        (4, "misaligned_interval", "interval_start"),
        (5, "invalid_number", "price_per_mwh"),
        (6, "out_of_range", "price_per_mwh"),
        (7, "too_precise", "price_per_mwh"),
        (8, "conflicting_duplicate", "interval_start"),
    ]
    assert list(MarketPrice.objects.values_list("price_per_mwh", flat=True)) == [Decimal(1)]


def test_a_wrong_currency_refuses_the_whole_request(de):
    with pytest.raises(DomainError) as error:
        market_prices_import(
            market_code="DE-LU",
            currency="USD",
            prices=hours(dt.datetime(2024, 1, 15, tzinfo=UTC), ["1"]),
            now=NOW,
        )

    assert (error.value.code, error.value.field) == ("currency_mismatch", "currency")
    assert not MarketPrice.objects.exists()


def test_an_unknown_market_is_refused():
    with pytest.raises(DomainError) as error:
        market_prices_import(market_code="XX", currency="EUR", prices=[], now=NOW)

    assert (error.value.code, error.value.field) == ("NOT_FOUND", "market")


def test_importing_the_same_prices_twice_changes_nothing(de):
    prices = hours(dt.datetime(2024, 1, 15, tzinfo=UTC), ["1.5", "-2.25", "0"])
    market_prices_import(market_code="DE-LU", currency="EUR", prices=prices, now=NOW)
    before = list(MarketPrice.objects.order_by("pk").values())

    again = market_prices_import(
        market_code="DE-LU", currency="EUR", prices=prices, now=NOW + dt.timedelta(days=1)
    )

    assert (again.accepted, again.duplicates, again.revised) == (0, 3, 0)
    assert list(MarketPrice.objects.order_by("pk").values()) == before
    assert not MarketPriceRevision.objects.exists()


@pytest.mark.parametrize(("day", "count"), [(dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25)])
def test_dst_days_in_berlin_have_23_or_25_hourly_intervals(de, day, count):
    starts = local_day_hours(day, BERLIN)
    prices = [(s, s + dt.timedelta(hours=1), Decimal(i)) for i, s in enumerate(starts)]

    result = market_prices_import(market_code="DE-LU", currency="EUR", prices=prices, now=NOW)

    assert len(starts) == count
    assert (result.accepted, result.rejected_count) == (count, 0)


def test_quarter_hours_must_align_in_the_markets_local_zone():
    market_ensure(
        code="IN-X",
        currency="INR",
        timezone="Asia/Kolkata",
        interval_minutes=60,
        day_ahead_results_at=dt.time(13),
    )
    on_local_hour = dt.datetime(2024, 1, 15, 0, 30, tzinfo=UTC)  # 06:00 in Kolkata (+05:30)
    on_utc_hour = dt.datetime(2024, 1, 15, 1, 0, tzinfo=UTC)  # 06:30 in Kolkata

    result = market_prices_import(
        market_code="IN-X",
        currency="INR",
        prices=[(s, s + dt.timedelta(hours=1), Decimal(1)) for s in (on_local_hour, on_utc_hour)],
        now=NOW,
    )

    assert result.accepted == 1
    assert [(r["index"], r["code"]) for r in result.rejected] == [(1, "misaligned_interval")]


def test_import_loads_the_stored_prices_in_one_query(de, django_assert_max_num_queries):
    prices = hours(dt.datetime(2024, 1, 1, tzinfo=UTC), [str(i) for i in range(24 * 7)])
    market_prices_import(market_code="DE-LU", currency="EUR", prices=prices, now=NOW)
    revised = [(s, e, p + 1) for s, e, p in prices]

    with django_assert_max_num_queries(10):
        result = market_prices_import(market_code="DE-LU", currency="EUR", prices=revised, now=NOW)

    assert result.revised == 24 * 7
