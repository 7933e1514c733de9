from functools import partial

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from grid.mqtt import publish_with_ack
from grid.services.dispatch import plans_due_for_restore, shedding_plan_dispatch, shedding_plan_restore


def _publisher():
    return partial(
        publish_with_ack,
        url=settings.GRID_MQTT_URL,
        ack_seconds=settings.GRID_DISPATCH_ACK_SECONDS,
        retries=settings.GRID_DISPATCH_RETRIES,
    )


def _publish(publisher):
    return lambda messages: publisher(messages=messages)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def shedding_plan_dispatch_task(*, plan_id: int) -> str:
    dispatch = shedding_plan_dispatch(
        plan_id=plan_id,
        topic_root=settings.GRID_MQTT_TOPIC_ROOT,
        now=timezone.now(),
        publisher=_publish(_publisher()),
    )
    return dispatch.status


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def shedding_plans_restore_due_task() -> list[int]:
    """Restore instructions for dispatched plans whose period has passed."""
    now = timezone.now()
    done = []
    for plan_id in plans_due_for_restore(now=now):
        shedding_plan_restore(
            plan_id=plan_id,
            topic_root=settings.GRID_MQTT_TOPIC_ROOT,
            now=now,
            publisher=_publish(_publisher()),
        )
        done.append(plan_id)
    return done
