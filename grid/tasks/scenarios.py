from celery import shared_task
from django.utils import timezone

from grid.services.scenarios import scenario_run


@shared_task
def scenario_run_task(*, scenario_id: int) -> str:
    return scenario_run(scenario_id=scenario_id, now=timezone.now()).status
