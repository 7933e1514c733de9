"""Scheduled jobs of the metering app (routed to the "metering" queue by module; see CELERY_TASK_ROUTES).

Thin adapters: read the clock, call one service, return what it reports. Each is idempotent and safe to
retry.
"""

from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.utils import timezone

from metering.partitions import ensure_reading_partitions
from metering.services.aggregates import aggregates_refresh
from metering.services.vee import vee_run

PARTITION_MONTHS_AHEAD = 2


@shared_task
def aggregates_refresh_task(*, max_keys: int = 50_000) -> int:
    """Recompute the feeder and region aggregates whose readings changed; return the rows written."""
    return aggregates_refresh(now=timezone.now(), max_keys=max_keys)


@shared_task
def vee_run_task(*, period_days: int = 2) -> dict:
    """Run VEE over the last `period_days` UTC days up to now (default: yesterday and today)."""
    now = timezone.now()
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    report = vee_run(
        period_start=today - timedelta(days=period_days - 1),
        period_end=today + timedelta(days=1),
        as_of=now,
    )
    return report.as_dict()


@shared_task
def reading_partitions_ensure_task() -> list[str]:
    """Create the readings partitions of this month and the next two (PostgreSQL); return the new ones."""
    now = timezone.now().astimezone(UTC)
    month = now.year * 12 + now.month - 1 + PARTITION_MONTHS_AHEAD
    last = datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return ensure_reading_partitions(now, last)
