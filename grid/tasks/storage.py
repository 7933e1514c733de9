"""Scheduled storage jobs: thin adapters that read the clock and settings and call one service."""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from grid.services.storage import (
    storage_block_solve,
    storage_schedule_collect,
    storage_schedule_dispatch,
    storage_schedules_due,
)


@shared_task
def storage_schedules_due_task(*, now: str | None = None) -> list[dict]:
    """Schedule tomorrow once its prices are in and re-plan today when inputs changed; dispatch new runs."""
    if not settings.GRID_STORAGE_TARIFF_CODE:
        return []
    moment = datetime.fromisoformat(now) if now else timezone.now()
    runs = storage_schedules_due(
        tariff_code=settings.GRID_STORAGE_TARIFF_CODE,
        now=moment,
        mqtt_url=settings.GRID_MQTT_URL if settings.GRID_STORAGE_DISPATCH else None,
        fan_out=settings.GRID_STORAGE_FAN_OUT,
    )
    return [{"run": run.pk, "kind": run.kind.lower(), "status": run.status.lower()} for run in runs]


@shared_task
def storage_schedule_dispatch_task(*, run_id: int) -> dict:
    """Publish a stored run's set points to its units over MQTT (QoS 1)."""
    run = storage_schedule_dispatch(run_id=run_id, now=timezone.now(), mqtt_url=settings.GRID_MQTT_URL)
    return {"run": run.pk, "acknowledged_units": run.acknowledged_units}


@shared_task
def storage_block_solve_task(*, run_id: int, payload: dict) -> dict:
    """Solve one subproblem (a feeder, or a block of units) of a fanned-out schedule run."""
    return storage_block_solve(run_id=run_id, payload=payload)


@shared_task
def storage_schedule_collect_task(answers: list[dict], *, run_id: int, mqtt_url: str | None = None) -> dict:
    """The chord's callback: assemble the run from its subproblems' answers, store it, dispatch it."""
    run = storage_schedule_collect(run_id=run_id, answers=answers, now=timezone.now(), mqtt_url=mqtt_url)
    return {"run": run.pk, "status": run.status.lower(), "jobs_done": run.jobs_done}
