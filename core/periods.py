"""Instants and half-open periods `[start, end)`: the checks every app applies to what it is given.

Pure (no Django), so calculation modules use it too. Each check raises `error(message, field=...)`:
`PeriodError` (a ValueError) by default, or the caller's domain or API error class.
"""

from collections.abc import Callable
from datetime import datetime, timedelta


class PeriodError(ValueError):
    """An instant or a period that cannot be used; `field` names the argument it came from."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


ErrorFactory = Callable[..., Exception]
LONGER_PERIODS = "ask for several shorter periods."


def is_aware(moment: datetime) -> bool:
    """Whether `moment` names an instant (it has a UTC offset), not a wall-clock time."""
    return moment.tzinfo is not None and moment.utcoffset() is not None


def check_instant(
    moment: datetime, *, field: str, whole_second: bool = False, error: ErrorFactory = PeriodError
) -> None:
    """Refuse a naive datetime (and, when asked, one with a fraction of a second)."""
    if not is_aware(moment):
        raise error("Give a date and time with a UTC offset.", field=field)
    if whole_second and moment.microsecond:
        raise error("Give a whole second.", field=field)


def check_period(
    start: datetime,
    end: datetime | None,
    *,
    fields: tuple[str, str] = ("period_start", "period_end"),
    names: tuple[str, str] | None = None,
    longest: timedelta | None = None,
    error: ErrorFactory = PeriodError,
) -> None:
    """Refuse a period whose ends are naive, that ends before it starts, or (with `longest`) that is too
    long. `end=None` is an open end. Errors name `fields`; messages say `names` (default: the fields)."""
    start_field, end_field = fields
    start_name, end_name = names or fields
    check_instant(start, field=start_field, error=error)
    if end is None:
        return
    check_instant(end, field=end_field, error=error)
    if end <= start:
        raise error(f"{end_name} must be after {start_name}.", field=end_field)
    if longest is not None and end - start > longest:
        raise error(f"The period can be at most {_days(longest)}; {LONGER_PERIODS}", field=end_field)


def _days(span: timedelta) -> str:
    return f"{span.days} days" if span.days else str(span)
