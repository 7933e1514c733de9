"""Celery tasks of the pricing app (routed to the "pricing" queue by module name)."""

from pricing.tasks_markets import market_prices_fetch, market_prices_fetch_due

__all__ = ["market_prices_fetch", "market_prices_fetch_due"]
