"""What storage and balancing read from other apps, in one place.

Load and PV profiles come from forecasting's forecasts; when it has none for the period they come from
measured readings (a week earlier, same weekday) or the asset's PV size on a clear-sky shape.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np

from forecasting.selectors.forecasts import ForecastNotFound, UnknownSeries, forecast_frame


class MeterPoint(Protocol):
    """What these inputs read of a meter point (metering's `MeterPoint`, as its selectors return it)."""

    identifier: str
    has_pv: bool


HALF_HOUR = timedelta(minutes=30)
LOAD_HISTORY = timedelta(days=7)


def interval_starts(
    period_start: datetime, period_end: datetime, step: timedelta = HALF_HOUR
) -> list[datetime]:
    count = int((period_end - period_start) / step)
    return [period_start + i * step for i in range(count)]


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants of `day`'s local midnight and the next one in `zone`: 23, 24 or 25 hours apart."""
    tz = ZoneInfo(zone)
    following = day + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    end = datetime(following.year, following.month, following.day, tzinfo=tz).astimezone(UTC)
    return start, end


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def local_hours(starts: list[datetime], zone: str) -> np.ndarray:
    """Local hour of day (0..23) of each instant: the clock the consumer response was measured on."""
    tz = ZoneInfo(zone)
    return np.array([t.astimezone(tz).hour for t in starts], dtype=int)


def week_earlier(starts: list[datetime], zone: str) -> list[datetime]:
    """The same local wall-clock time seven days earlier, in UTC (the day a week before may have another
    UTC offset; both repeated autumn hours map to the one hour of that day)."""
    tz = ZoneInfo(zone)
    earlier = []
    for t in starts:
        local = t.astimezone(tz)
        wall = datetime(local.year, local.month, local.day, local.hour, local.minute, tzinfo=tz) - timedelta(
            days=7
        )
        earlier.append(wall.astimezone(UTC))
    return earlier


def _forecast_values(series_code: str, period_start: datetime, period_end: datetime, as_of, steps: int):
    """The forecast's `value` column on the period's grid, or None if forecasting has none."""
    try:
        frame = forecast_frame(
            series_code=series_code, period_from=period_start, period_to=period_end, as_of=as_of
        )
    except (ForecastNotFound, UnknownSeries):
        return None
    values = frame["value"].to_numpy(dtype=float)
    return values if len(values) == steps else None


def clear_sky_shape(starts: list[datetime], longitude_deg: float = 0.0) -> np.ndarray:
    """A day's PV shape (0..1) from solar time: a sine between 06:00 and 18:00 local solar time."""
    hours = np.array([(t.hour + t.minute / 60 + longitude_deg / 15) % 24 for t in starts]) + 0.25
    return np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None)


def pv_profile_kw(
    *, meter_point: MeterPoint, pv_peak_kw: Decimal, starts: list[datetime], period_end: datetime, as_of=None
) -> np.ndarray:
    """Average PV kW per interval behind the meter: forecast `pv:meter_point:<id>`, else size × clear sky."""
    if not meter_point.has_pv and not pv_peak_kw:
        return np.zeros(len(starts))
    forecast = _forecast_values(
        f"pv:meter_point:{meter_point.identifier}", starts[0], period_end, as_of, len(starts)
    )
    if forecast is not None:
        return np.clip(forecast, 0, None)
    return float(pv_peak_kw) * clear_sky_shape(starts)


def history_index(starts: list[datetime], step: timedelta, zone: str) -> dict[datetime, list[int]]:
    """{instant a week earlier (on the reading grid): the intervals that take its value}. Intervals finer than
    the readings take the reading whose interval holds them (kWh per reading / its hours, kW)."""
    index: dict[datetime, list[int]] = {}
    grid = max(step, HALF_HOUR)
    for k, earlier in enumerate(week_earlier(starts, zone)):
        aligned = earlier - (earlier - datetime(2000, 1, 1, tzinfo=UTC)) % grid
        index.setdefault(aligned, []).append(k)
    return index


def load_profiles_kw(
    *,
    meter_points: list[MeterPoint],
    starts: list[datetime],
    step: timedelta = HALF_HOUR,
    zone: str = "UTC",
) -> np.ndarray:
    """Average kW per meter point and interval: the same local time a week earlier (measured, import)."""
    from metering.selectors.readings import reading_series

    profiles = np.zeros((len(meter_points), len(starts)))
    if not starts:
        return profiles
    index = history_index(starts, step, zone)
    first, last = min(index), max(index)
    for row, meter_point in enumerate(meter_points):
        buckets = reading_series(
            meter_point=meter_point, period_from=first, period_to=last + max(step, HALF_HOUR)
        )
        for bucket in buckets:
            hours = (bucket.interval_end - bucket.interval_start).total_seconds() / 3600 or 0.5
            for k in index.get(bucket.interval_start, ()):
                profiles[row, k] = float(bucket.kwh) / hours
    return profiles


def import_prices_per_kwh(*, tariff_code: str, starts: list[datetime], period_end: datetime) -> np.ndarray:
    """The tariff's unit rate of every interval (pricing's published/derived rates)."""
    from pricing.selectors.tariffs import unit_rates

    rates = unit_rates(tariff_code=tariff_code, period_from=starts[0], period_to=period_end)
    by_start = {rate.valid_from: float(rate.value_per_kwh) for rate in rates}
    values = np.empty(len(starts))
    for k, start in enumerate(starts):
        found = by_start.get(start)
        if found is None:  # rates coarser than the schedule's step: the rate whose interval holds the start
            found = next(float(r.value_per_kwh) for r in rates if r.valid_from <= start < r.valid_to)
        values[k] = found
    return values


def feeder_load_forecast_kwh(*, feeder_code: str, starts: list[datetime], period_end: datetime, as_of=None):
    """Forecast kWh per interval of a feeder (`feeder:<code>`), or None when forecasting has none."""
    return _forecast_values(f"feeder:{feeder_code}", starts[0], period_end, as_of, len(starts))
