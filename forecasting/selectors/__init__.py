"""Selectors of the forecasting app (reads). Other apps import from here only."""

from forecasting.selectors.demand import demand_baseline_by_slot, demand_forecast_by_start
from forecasting.selectors.forecasts import (
    ForecastNotFound,
    UnknownSeries,
    forecast_frame,
    series_get,
    series_history,
    series_list,
)
from forecasting.selectors.sensitivity import temperature_sensitivity
from forecasting.selectors.weather import weather_frame, weather_location_for_area

__all__ = [
    "ForecastNotFound",
    "UnknownSeries",
    "demand_baseline_by_slot",
    "demand_forecast_by_start",
    "forecast_frame",
    "series_get",
    "series_history",
    "series_list",
    "temperature_sensitivity",
    "weather_frame",
    "weather_location_for_area",
]
