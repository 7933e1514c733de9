"""Celery tasks of tariff comparisons (routed to the "billing" queue by module name): a run, and a large
run's chunks and their collection (a chord, see billing.services.comparison)."""

from celery import shared_task
from django.utils import timezone

from billing.services.comparison import (
    tariff_comparison_run_chunk,
    tariff_comparison_run_collect,
    tariff_comparison_run_execute,
)


@shared_task(acks_late=True)
def tariff_comparison_execute_task(*, run_id: int, queue: str | None = None) -> dict:
    """Compute a stored comparison run, or fan it out in chunks; a completed run is returned as it is."""
    run = tariff_comparison_run_execute(run_id=run_id, now=timezone.now(), queue=queue)
    return {"run_id": run.pk, "status": run.status, "done": run.progress_done}


@shared_task(acks_late=True)
def tariff_comparison_chunk_task(*, run_id: int, payload: dict) -> int:
    """Compute and store one chunk of a fanned-out run (stored once, however often it is delivered)."""
    return tariff_comparison_run_chunk(run_id=run_id, payload=payload, now=timezone.now())


@shared_task(acks_late=True)
def tariff_comparison_collect_task(*, run_id: int, chunks: int) -> dict:
    """The run's statistics over all its chunks."""
    run = tariff_comparison_run_collect(run_id=run_id, chunks=chunks, now=timezone.now())
    return {"run_id": run.pk, "status": run.status, "done": run.progress_done}
