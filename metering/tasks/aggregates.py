"""Aggregates job: thin adapter over the aggregates service; idempotent and safe to retry."""

from celery import shared_task
from django.utils import timezone

from metering.services.aggregates import aggregates_refresh


@shared_task
def aggregates_refresh_task(*, max_keys: int = 50_000) -> int:
    """Recompute the feeder and region aggregates whose readings changed; return the rows written."""
    return aggregates_refresh(now=timezone.now(), max_keys=max_keys)
