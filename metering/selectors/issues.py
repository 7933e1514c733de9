"""Reads of the data issues that VEE raised."""

from datetime import datetime

from django.db.models import QuerySet

from metering.models import DataIssue


def data_issue_list(
    *,
    meter_ids: list[int] | None = None,
    kind: str | None = None,
    status: str | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> QuerySet:
    """Data issues, optionally of some meters, kind and status, overlapping [period_start, period_end)."""
    issues = DataIssue.objects.all()
    if meter_ids is not None:
        issues = issues.filter(meter_id__in=meter_ids)
    if kind is not None:
        issues = issues.filter(kind=kind)
    if status is not None:
        issues = issues.filter(status=status)
    if period_start is not None:
        issues = issues.filter(ends_at__gt=period_start)
    if period_end is not None:
        issues = issues.filter(starts_at__lt=period_end)
    return issues.order_by("starts_at", "id")
