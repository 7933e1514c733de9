"""Reads of the pricing app: markets, their prices and the revisions staff review."""

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from django.db.models import QuerySet

from pricing.models import Market, MarketPrice, MarketPriceRevision


def market_get(*, code: str) -> Market | None:
    return Market.objects.filter(code=code).first()


def market_list() -> QuerySet[Market]:
    return Market.objects.order_by("code")


def market_price_list(*, market: Market, period_from: dt.datetime, period_to: dt.datetime) -> QuerySet:
    """Prices whose interval starts in [period_from, period_to), in time order."""
    return (
        MarketPrice.objects.filter(
            market=market, interval_start__gte=period_from, interval_start__lt=period_to
        )
        .select_related("market")
        .order_by("interval_start")
    )


def market_price_series(*, market: Market, period_from: dt.datetime, period_to: dt.datetime) -> pd.Series:
    """The prices of [period_from, period_to) as floats on a UTC DatetimeIndex (the analytics convention)."""
    rows = list(
        market_price_list(market=market, period_from=period_from, period_to=period_to).values_list(
            "interval_start", "price_per_mwh"
        )
    )
    index = (
        pd.DatetimeIndex([start for start, _ in rows], tz="UTC") if rows else pd.DatetimeIndex([], tz="UTC")
    )
    return pd.Series([float(price) for _, price in rows], index=index, dtype=float)


def market_has_prices(*, market: Market, start_at: dt.datetime, end_at: dt.datetime) -> bool:
    return MarketPrice.objects.filter(
        market=market, interval_start__gte=start_at, interval_start__lt=end_at
    ).exists()


def markets_due_for_fetch(*, now: dt.datetime) -> list[tuple[Market, dt.date]]:
    """Markets whose day-ahead results time has passed today (local) and whose next local day has no
    price yet, each with that next day."""
    due = []
    for market in market_list():
        local_now = now.astimezone(ZoneInfo(market.timezone))
        if local_now.time() < market.day_ahead_results_at:
            continue
        day = local_now.date() + dt.timedelta(days=1)
        zone = ZoneInfo(market.timezone)
        start_at = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
        end_at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
        if not market_has_prices(market=market, start_at=start_at, end_at=end_at):
            due.append((market, day))
    return due


def market_price_revision_list(*, to_review: bool = False) -> QuerySet[MarketPriceRevision]:
    """Revisions, newest first; `to_review`: only settled ones nobody has reviewed yet."""
    revisions = MarketPriceRevision.objects.select_related("market")
    if to_review:
        revisions = revisions.filter(settled=True, reviewed=False)
    return revisions.order_by("-superseded_at", "-pk")
