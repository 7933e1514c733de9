"""Training and anomaly-detection runs started by staff or the API, one task per chunk (thin adapter)."""

from celery import shared_task
from django.utils import timezone

from forecasting.services.jobs import forecasting_job_chunk


@shared_task
def forecasting_job_chunk_task(*, pk: int, series_codes: list[str]) -> dict:
    return forecasting_job_chunk(pk=pk, series_codes=series_codes, now=timezone.now(), clock=timezone.now)
