"""The local calendar of a series: time zone, public holidays, resolution, and the features built from it."""

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)


class UnknownHolidays(ValueError):
    """The holiday calendar code names no country (or subdivision) that the `holidays` package knows."""


@dataclass(frozen=True)
class Calendar:
    """Where a series lives: `zone` (IANA), `holidays` ("AU-VIC", "GB-ENG", "US" or ""), `step`."""

    zone: str = "UTC"
    holidays: str = ""
    step: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(hours=1))

    @property
    def steps_per_day(self) -> int:
        return int(DAY / self.step)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def holiday_dates(self, years: range) -> set[date]:
        if not self.holidays:
            return set()
        import holidays as holidays_lib

        country, _, subdiv = self.holidays.partition("-")
        try:
            found = holidays_lib.country_holidays(country, subdiv=subdiv or None, years=list(years))
        except (NotImplementedError, KeyError) as error:
            raise UnknownHolidays(f"unknown holiday calendar {self.holidays!r}: {error}") from error
        return set(found.keys())

    def local(self, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """`index` (UTC) as naive local wall time."""
        return index.tz_convert(self.zone).tz_localize(None)

    def utc_offset_steps(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The local UTC offset of each instant, in steps (for "same local time k days ago")."""
        offset = self.local(index) - index.tz_convert("UTC").tz_localize(None)
        return np.asarray(offset / self.step, dtype=float).round().astype(int)

    def features(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """Calendar features of each UTC instant in local time."""
        local = self.local(index)
        years = range(local.year.min() - 1, local.year.max() + 2) if len(local) else range(0)
        holidays = self.holiday_dates(years)
        days = local.normalize()
        if holidays:
            known = pd.DatetimeIndex(sorted(holidays))
            is_holiday = np.asarray(days.isin(known))
            prev_holiday = np.asarray((days - DAY).isin(known))
        else:
            is_holiday = prev_holiday = np.zeros(len(local), bool)
        doy = local.dayofyear.to_numpy()
        minute_of_day = local.hour.to_numpy() * 60 + local.minute.to_numpy()
        return pd.DataFrame(
            {
                "slot": minute_of_day / 60.0,
                "dow": local.dayofweek.to_numpy(),
                "weekend": (local.dayofweek.to_numpy() >= 5).astype(int),
                "holiday": is_holiday.astype(int),
                "after_holiday": prev_holiday.astype(int),
                "doy_sin": np.sin(2 * np.pi * doy / 365.25),
                "doy_cos": np.cos(2 * np.pi * doy / 365.25),
                "month": local.month.to_numpy(),
            },
            index=index,
        )


def is_temperature(column: str) -> bool:
    """A regressor whose name says it is a temperature gets heating/cooling degree transforms."""
    return "temp" in column.lower()


HEATING_BASE_C = 16.0
COOLING_BASE_C = 22.0


def degree_days(temperature: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heating and cooling degrees (°C below HEATING_BASE_C, above COOLING_BASE_C): the non-linear effect."""
    values = np.asarray(temperature, dtype=float)
    return np.maximum(0.0, HEATING_BASE_C - values), np.maximum(0.0, values - COOLING_BASE_C)
