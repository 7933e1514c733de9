"""Local-time buckets (hour, day, month) of a UTC period, DST-correct; pure (no Django)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

STEPS = {"HOUR", "DAY", "MONTH"}


def _local_floor(moment: datetime, zone: ZoneInfo, unit: str) -> datetime:
    local = moment.astimezone(zone)
    if unit == "HOUR":
        local = local.replace(minute=0, second=0, microsecond=0)
    elif unit == "DAY":
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        local = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Re-attach the zone so that a wall-clock time on a DST day gets its own offset.
    return datetime(local.year, local.month, local.day, local.hour, tzinfo=zone).astimezone(UTC)


def _next(boundary: datetime, zone: ZoneInfo, unit: str) -> datetime:
    if unit == "HOUR":
        return boundary + timedelta(hours=1)
    local = boundary.astimezone(zone)
    if unit == "DAY":
        day = local.date() + timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=zone).astimezone(UTC)


def local_buckets(
    period_from: datetime, period_to: datetime, timezone: str, unit: str
) -> list[tuple[datetime, datetime]]:
    """[(start, end)] in UTC covering [period_from, period_to), cut at local hour/day/month boundaries.

    A local day is 23 or 25 hours long on DST days; the first and last buckets are clipped to the period.
    """
    if unit not in STEPS:
        raise ValueError(f"unknown bucket unit {unit}")
    zone = ZoneInfo(timezone)
    buckets = []
    start = _local_floor(period_from, zone, unit)
    while start < period_to:
        end = _next(start, zone, unit)
        buckets.append((max(start, period_from), min(end, period_to)))
        start = end
    return buckets
