"""Hourly fetch of every weather location's forecast from Open-Meteo (thin adapter)."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from forecasting.services.weather import weather_forecast_fetch_all


@shared_task
def weather_forecasts_fetch(*, now: str | None = None) -> dict:
    return weather_forecast_fetch_all(now=datetime.fromisoformat(now) if now else timezone.now())
