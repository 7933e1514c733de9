"""Celery tasks of the pricing app's markets. Adapters only: read the clock, call one service."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from pricing.services import market_feeds as services


def _as_datetime(value: str | dt.datetime | None) -> dt.datetime:
    if value is None:
        return timezone.now()
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


@shared_task
def market_prices_fetch_due(now: str | dt.datetime | None = None) -> dict[str, dict]:
    """Every 15 minutes (beat): fetch the next day of the markets whose results are out; idempotent."""
    return services.market_prices_fetch_due(now=_as_datetime(now))


@shared_task
def market_prices_fetch(market_code: str, day: str | dt.date, now: str | dt.datetime | None = None) -> dict:
    """Fetch and import one market's day-ahead prices for its local `day` (YYYY-MM-DD); idempotent."""
    result = services.market_prices_fetch(
        market_code=market_code,
        day=day if isinstance(day, dt.date) else dt.date.fromisoformat(day),
        now=_as_datetime(now),
    )
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "revised": result.revised,
        "rejected": result.rejected_count,
    }
