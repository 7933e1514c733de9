"""Scheduled training and forecasting: a fan-out task splits the active series into chunks, one task per
chunk, so every worker on the forecasting queue gets a share. Thin adapters; each chunk task is idempotent
for its `now` (a retried chunk re-issues the same forecast version)."""

from datetime import datetime

from celery import group, shared_task
from django.conf import settings
from django.utils import timezone

from forecasting.services.training import series_chunks, series_forecast_many, series_train_many


def _now(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else timezone.now().replace(minute=0, second=0, microsecond=0)


def _chunk_size() -> int:
    return getattr(settings, "FORECASTING_CHUNK_SIZE", 25)


@shared_task
def forecasts_retrain_all(*, now: str | None = None) -> int:
    """Daily: one retraining task per chunk of series, sent as a Celery group (every worker on the
    forecasting queue takes chunks until none is left); returns the number of chunks."""
    moment = _now(now)
    chunks = series_chunks(chunk_size=_chunk_size())
    if chunks:
        group(
            series_retrain_chunk.s(series_codes=codes, now=moment.isoformat()) for codes in chunks
        ).apply_async()
    return len(chunks)


@shared_task
def series_retrain_chunk(*, series_codes: list[str], now: str) -> dict:
    return series_train_many(series_codes=series_codes, now=datetime.fromisoformat(now))


@shared_task
def forecasts_refresh_all(*, now: str | None = None) -> int:
    """Hourly: enqueue one re-forecast task per chunk of series (no refit, newest data and weather)."""
    moment = _now(now)
    chunks = series_chunks(chunk_size=_chunk_size() * 4)
    if chunks:
        group(
            series_forecast_chunk.s(series_codes=codes, now=moment.isoformat()) for codes in chunks
        ).apply_async()
    return len(chunks)


@shared_task
def series_forecast_chunk(*, series_codes: list[str], now: str) -> dict:
    return series_forecast_many(series_codes=series_codes, now=datetime.fromisoformat(now))
