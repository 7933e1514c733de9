"""The simplest demand baseline: the average load per local (hour, minute) slot over the last days.

Used when a series has no stored forecast yet (moved here from pricing, which now only reads forecasts).
"""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

LOAD_QUANTUM = Decimal("0.0001")
LOAD_HISTORY_DAYS = 7


def average_load_by_slot(
    rows: Iterable[tuple[datetime, Decimal]],
    *,
    zone: ZoneInfo,
    before: date,
    days: int = LOAD_HISTORY_DAYS,
) -> dict[tuple[int, int], tuple[Decimal, str]]:
    """(average kWh, where it comes from) per local (hour, minute) slot over the last `days` local days that
    have data for that slot before `before`. `rows` are (interval_start, kWh) of one area."""
    by_slot: dict[tuple[int, int], dict[date, Decimal]] = {}
    for start, kwh in rows:
        local = start.astimezone(zone)
        if local.date() >= before:
            continue
        per_day = by_slot.setdefault((local.hour, local.minute), {})
        # Both occurrences of a repeated slot (the autumn DST change) count as one day's sample.
        per_day[local.date()] = per_day.get(local.date(), Decimal(0)) + kwh
    averages = {}
    for slot, per_day in by_slot.items():
        recent = sorted(per_day)[-days:]
        total = sum((per_day[d] for d in recent), Decimal(0))
        average = (total / len(recent)).quantize(LOAD_QUANTUM, rounding=ROUND_HALF_UP)
        averages[slot] = (average, f"{days}-day average of {len(recent)} day{'s' * (len(recent) != 1)}")
    return averages
