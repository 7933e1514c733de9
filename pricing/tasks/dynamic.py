"""Scheduled jobs of dynamic pricing (scheduled by beat).

Thin adapters: read the clock (unless `now` is given, ISO 8601), call one service or selector, return
what it reports. Both are idempotent and safe to retry.
"""

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from pricing.selectors.ledger import ledger_verify
from pricing.services.dynamic import dynamic_prices_publish_due
from pricing.services.ledger import ledger_head_export

log = logging.getLogger(__name__)


@shared_task
def price_ledger_verify_task() -> dict:
    """Verify the whole price ledger; log an error naming the first broken entry."""
    report = ledger_verify()
    if not report.ok:
        log.error(
            "price ledger broken at entry %s: %s", report.first_broken.sequence, report.first_broken.reason
        )
    return report.as_dict()


@shared_task
def price_ledger_head_export_task() -> dict:
    """Verify the ledger and export its signed head outside the database (see docs/dynamic-pricing.md)."""
    return ledger_head_export(now=timezone.now()).as_dict()


@shared_task
def dynamic_prices_publish_due_task(*, now: str | None = None) -> dict:
    """Publish tomorrow's prices of the dynamic tariffs whose market's day-ahead results are in."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    return dynamic_prices_publish_due(now=moment).as_dict()
