"""Readings jobs: the readings partitions ahead of time; idempotent and safe to retry."""

from datetime import UTC, datetime

from celery import shared_task
from django.utils import timezone

from metering.partitions import ensure_reading_partitions

PARTITION_MONTHS_AHEAD = 2


@shared_task
def reading_partitions_ensure_task() -> list[str]:
    """Create the readings partitions of this month and the next two (PostgreSQL); return the new ones."""
    now = timezone.now().astimezone(UTC)
    month = now.year * 12 + now.month - 1 + PARTITION_MONTHS_AHEAD
    last = datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return ensure_reading_partitions(now, last)
