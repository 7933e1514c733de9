"""VEE job: thin adapter over the VEE service; idempotent and safe to retry."""

from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.utils import timezone

from metering.services.vee import vee_run


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
