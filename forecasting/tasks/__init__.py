"""Celery tasks of the forecasting app (routed to the forecasting queue by `forecasting.tasks.*`)."""

from forecasting.tasks.backtests import backtest_run_execute_task
from forecasting.tasks.jobs import forecasting_job_chunk_task
from forecasting.tasks.training import (
    forecasts_refresh_all,
    forecasts_retrain_all,
    series_forecast_chunk,
    series_retrain_chunk,
)
from forecasting.tasks.weather import weather_forecasts_fetch

__all__ = [
    "backtest_run_execute_task",
    "forecasting_job_chunk_task",
    "forecasts_refresh_all",
    "forecasts_retrain_all",
    "series_forecast_chunk",
    "series_retrain_chunk",
    "weather_forecasts_fetch",
]
