"""Reads of the feeder and region load aggregates."""

from datetime import datetime
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from metering.models import LoadAggregate


def _level(level: str) -> str:
    """The stored level (`LoadAggregate.Level`, upper case). Callers in forecasting and grid still pass the
    lower-case names stored before metering 0005; accept those until they pass `LoadAggregate.Level`."""
    return LoadAggregate.Level(level.upper())


def load_aggregate_list(*, level: str, code: str, period_start: datetime, period_end: datetime) -> QuerySet:
    """The aggregates of one feeder or region with interval_start in [period_start, period_end)."""
    return LoadAggregate.objects.filter(
        level=_level(level), code=code, interval_start__gte=period_start, interval_start__lt=period_end
    ).order_by("interval_start", "id")


def load_aggregate_totals(
    *, level: str, code: str | None, period_start: datetime, period_end: datetime
) -> list[tuple[datetime, Decimal]]:
    """(interval_start, net import kWh) of one feeder or region, or summed over every code of the level when
    `code` is None (the portfolio), with interval_start in [period_start, period_end)."""
    rows = LoadAggregate.objects.filter(
        level=_level(level), interval_start__gte=period_start, interval_start__lt=period_end
    )
    if code is not None:
        rows = rows.filter(code=code)
    return list(
        rows.values("interval_start")
        .annotate(net_kwh=Sum(F("import_kwh") - F("export_kwh")))
        .order_by("interval_start")
        .values_list("interval_start", "net_kwh")
    )


def load_aggregate_codes(*, level: str) -> list[str]:
    """The feeder or region codes that have aggregates."""
    return list(
        LoadAggregate.objects.filter(level=_level(level))
        .values_list("code", flat=True)
        .distinct()
        .order_by("code")
    )
