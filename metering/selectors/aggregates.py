"""Reads of the feeder and region load aggregates."""

from datetime import datetime

from django.db.models import QuerySet

from metering.models import LoadAggregate


def load_aggregate_list(*, level: str, code: str, period_start: datetime, period_end: datetime) -> QuerySet:
    """The aggregates of one feeder or region with interval_start in [period_start, period_end)."""
    return LoadAggregate.objects.filter(
        level=level, code=code, interval_start__gte=period_start, interval_start__lt=period_end
    ).order_by("interval_start", "id")
