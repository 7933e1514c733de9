from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grid.models import Network
from grid.services.monitoring import grid_lookahead
from grid.services.shedding import shedding_plan_approve


@shared_task
def grid_lookahead_task(*, network_id: int | None = None) -> dict:
    """Every 15 minutes: each network's look-ahead run; a plan for its worst step; dispatched when
    automatic."""
    now = timezone.now()
    done = {}
    networks = Network.objects.order_by("id") if network_id is None else Network.objects.filter(pk=network_id)
    for network in networks:
        outcome = grid_lookahead(network=network, now=now, hours=settings.GRID_LOOKAHEAD_HOURS)
        done[network.name] = {
            "run": outcome.run.pk,
            "violation_steps": outcome.violation_steps,
            "plan": outcome.plan.pk if outcome.plan else None,
        }
        if outcome.plan is not None and outcome.plan.feasible and settings.GRID_AUTO_DISPATCH:
            shedding_plan_approve(plan_id=outcome.plan.pk, user_id=None, now=now)
            plan_id = outcome.plan.pk
            from grid.tasks.dispatch import shedding_plan_dispatch_task

            transaction.on_commit(lambda plan_id=plan_id: shedding_plan_dispatch_task.delay(plan_id=plan_id))
    return done
