"""Celery tasks of the pricing app (routed to the "pricing" queue by module name)."""

from pricing.tasks_dynamic import (
    dynamic_prices_publish_due_task,
    price_ledger_head_export_task,
    price_ledger_verify_task,
)
from pricing.tasks_markets import market_prices_fetch, market_prices_fetch_due

__all__ = [
    "dynamic_prices_publish_due_task",
    "market_prices_fetch",
    "market_prices_fetch_due",
    "price_ledger_head_export_task",
    "price_ledger_verify_task",
]
