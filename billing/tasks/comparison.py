"""Celery task of tariff comparisons (routed to the "billing" queue by module name)."""

from celery import shared_task
from django.utils import timezone

from billing.services.comparison import tariff_comparison_run_execute


@shared_task(acks_late=True)
def tariff_comparison_execute_task(*, run_id: int) -> dict:
    """Compute a stored comparison run; a completed run is returned as it is."""
    run = tariff_comparison_run_execute(run_id=run_id, now=timezone.now())
    return {"run_id": run.pk, "status": run.status, "done": run.progress_done}
