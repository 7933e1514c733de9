"""Reads of the data issues that VEE raised."""

from datetime import datetime

from django.db.models import QuerySet

from metering.models import DataIssue

# Data issues whose readings are kept as measured but suspect: a spike or a stuck value.
SUSPECT_KINDS = (DataIssue.Kind.SPIKE, DataIssue.Kind.STUCK)


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


def data_issue_suspect_open_list(
    *, meter_ids: list[int], period_start: datetime, period_end: datetime
) -> QuerySet:
    """Open spike and stuck-value issues of the meters overlapping [period_start, period_end)."""
    return data_issue_list(
        meter_ids=meter_ids, status=DataIssue.Status.OPEN, period_start=period_start, period_end=period_end
    ).filter(kind__in=SUSPECT_KINDS)
