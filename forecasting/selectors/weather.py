"""Reads of weather: observations where they exist, else the latest forecast issued at or before `as_of`."""

from datetime import datetime

import numpy as np
import pandas as pd

from forecasting.adapters.open_meteo import WEATHER_COLUMNS
from forecasting.models import WeatherArea, WeatherForecast, WeatherLocation, WeatherObservation


def weather_location_list():
    return WeatherLocation.objects.order_by("code", "id")


def weather_location_get(*, code: str) -> WeatherLocation | None:
    return WeatherLocation.objects.filter(code=code).first()


def weather_location_for_area(*, kind: str, code: str) -> WeatherLocation | None:
    """The location of a feeder or region (`kind` "feeder"/"region" as the API names it, any case)."""
    area = WeatherArea.objects.select_related("location").filter(kind=kind.upper(), code=code).first()
    return area.location if area else None


def _hours(period_from: datetime, period_to: datetime) -> pd.DatetimeIndex:
    start = pd.Timestamp(period_from).tz_convert("UTC").floor("h")
    return pd.date_range(start, pd.Timestamp(period_to).tz_convert("UTC"), freq="h", inclusive="left")


def weather_frame(
    *, location_code: str, period_from: datetime, period_to: datetime, as_of: datetime | None = None
) -> pd.DataFrame:
    """Hourly weather of a location over [period_from, period_to) (UTC index `interval_start`), NaN where
    unknown: observations (those before `as_of` when given), else the latest forecast issued at or before
    `as_of` (default: the latest)."""
    index = _hours(period_from, period_to)
    frame = pd.DataFrame(np.nan, index=index, columns=list(WEATHER_COLUMNS))
    frame.index.name = "interval_start"
    if len(index) == 0:
        return frame
    location = WeatherLocation.objects.filter(code=location_code).first()
    if location is None:
        return frame
    fields = ["interval_start", *WEATHER_COLUMNS]
    forecasts = WeatherForecast.objects.filter(
        location=location, interval_start__gte=index[0], interval_start__lt=period_to
    )
    observations = WeatherObservation.objects.filter(
        location=location, interval_start__gte=index[0], interval_start__lt=period_to
    )
    if as_of is not None:
        forecasts = forecasts.filter(issued_at__lte=as_of)
        observations = observations.filter(interval_start__lt=as_of)
    forecast_rows = list(forecasts.order_by("interval_start", "issued_at", "id").values_list(*fields))
    if forecast_rows:
        issued = pd.DataFrame(forecast_rows, columns=fields).drop_duplicates("interval_start", keep="last")
        issued = issued.set_index(pd.DatetimeIndex(issued.pop("interval_start")).tz_convert("UTC"))
        frame.update(issued.astype(float))
    observed_rows = list(observations.order_by("interval_start", "id").values_list(*fields))
    if observed_rows:
        observed = pd.DataFrame(observed_rows, columns=fields)
        observed = observed.set_index(pd.DatetimeIndex(observed.pop("interval_start")).tz_convert("UTC"))
        observed = observed.astype(float)
        has = observed.notna().any(axis=1)
        frame.loc[observed.index[has]] = observed[has].to_numpy()
    return frame
