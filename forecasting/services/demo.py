"""The demo's forecasting step: forecast the London feeders for the first week of February 2013 from January.

There is no openly licensed hourly London weather for 2013 that the project may commit (the Dark Sky copy is
internal; Open-Meteo's committed sample covers US points), so the demo derives an hourly temperature for
London from the Met Office Heathrow 1981–2010 January/February normals (daily mean about 5 °C, a 6 °C daily
range, warmest at 14:00) with a five-day weather swing of ±3 °C. It is labelled `derived-climatology` in the
observations' source; replace it with `weather_import` of a real Open-Meteo file when you have one.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction

from forecasting.models import Series, WeatherLocation, WeatherObservation
from forecasting.services.training import series_train
from forecasting.services.weather import weather_area_assign, weather_location_create

DEMO_NOW = datetime(2013, 2, 1, tzinfo=UTC)
WEATHER_FROM = datetime(2012, 12, 31, tzinfo=UTC)
WEATHER_TO = datetime(2013, 2, 9, tzinfo=UTC)


@dataclass
class DemoForecast:
    series: list[str]
    champions: dict[str, str]


def london_temperature(index: pd.DatetimeIndex) -> np.ndarray:
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60
    days = np.asarray((index - index[0]) / pd.Timedelta(days=1), dtype=float)
    diurnal = 3.0 * np.cos(2 * np.pi * (hours - 14) / 24)
    swing = 3.0 * np.sin(2 * np.pi * days / 5.0)
    return np.round(5.0 + diurnal + swing, 1)


@transaction.atomic
def _weather() -> WeatherLocation:
    location = weather_location_create(
        code="london",
        latitude=Decimal("51.5074"),
        longitude=Decimal("-0.1278"),
        zone="Europe/London",
        name="London (derived climatology for the demo)",
    )
    hours = pd.date_range(WEATHER_FROM, WEATHER_TO, freq="h", inclusive="left")
    WeatherObservation.objects.filter(location=location, source="derived-climatology").delete()
    WeatherObservation.objects.bulk_create(
        WeatherObservation(
            location=location,
            interval_start=t.to_pydatetime(),
            temperature_c=float(v),
            source="derived-climatology",
        )
        for t, v in zip(hours, london_temperature(hours), strict=True)
    )
    return location


def demo_forecast_london_feeders(*, feeder_codes: list[str], now: datetime = DEMO_NOW) -> DemoForecast:
    """Map the London feeders to London weather, register their series and train/forecast them at `now`
    (LightGBM against seasonal naive, 7 days ahead, half-hourly)."""
    location = _weather()
    codes, champions = [], {}
    for feeder in feeder_codes:
        weather_area_assign(kind="feeder", code=feeder, location_code=location.code)
        series, _ = Series.objects.update_or_create(
            code=f"feeder:{feeder}",
            defaults={
                "kind": Series.Kind.FEEDER,
                "resolution_minutes": 30,
                "unit": "kWh",
                "zone": "Europe/London",
                "holidays": "GB-ENG",
                "weather_location": location,
            },
        )
        outcome = series_train(
            series_code=series.code, now=now, models=("lightgbm",), history_days=40, reselect_after_days=0
        )
        codes.append(series.code)
        champions[series.code] = outcome.model
    return DemoForecast(codes, champions)
