"""Deliveries counted per task: a task whose worker dies on it every time is parked after N deliveries.

Tasks are acknowledged late and requeued when their worker is lost (settings), so a task that kills its
worker (a segfault, the OOM killer, a SIGKILL) would be delivered forever. Every task of the app derives from
`DeliveryCountedTask`: before it runs, the worker counts the delivery in Redis under the task id and retry
number; the count is removed when the task returns. The delivery after CELERY_TASK_MAX_DELIVERIES is not
run: the task is recorded as a `ParkedTask` (admin: Config › Parked tasks; Prometheus `celery_tasks_parked`)
and rejected without requeue. Retries (`self.retry`) start a new count; eager (in-process) runs count nothing.
"""

import logging
from typing import Any

from celery import Task
from celery.exceptions import Reject
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

COUNT_SECONDS = 7 * 24 * 3600  # a count outlives any redelivery cycle, then expires by itself


def delivery_key(task_id: str, retries: int) -> str:
    return f"celery:deliveries:{task_id}:{retries}"


def delivery_count(key: str) -> int:
    """Count one more delivery; the number so far (1 for the first)."""
    cache.add(key, 0, timeout=COUNT_SECONDS)
    return cache.incr(key)


class DeliveryCountedTask(Task):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if request.id and not request.is_eager:
            deliveries = delivery_count(delivery_key(request.id, request.retries or 0))
            if deliveries > settings.CELERY_TASK_MAX_DELIVERIES:
                self._park(request, deliveries, args, kwargs)
        return super().__call__(*args, **kwargs)

    def _park(self, request: Any, deliveries: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from core.services import parked_task_record  # Django is ready once a task runs

        queue = (request.delivery_info or {}).get("routing_key") or ""
        parked_task_record(
            task_id=request.id,
            task_name=self.name,
            args=list(args),
            kwargs=dict(kwargs),
            queue=queue,
            deliveries=deliveries,
            now=timezone.now(),
        )
        logger.error(
            "parked task %s[%s] after %d deliveries (its worker died on each): see Parked tasks in admin",
            self.name,
            request.id,
            deliveries - 1,
        )
        cache.delete(delivery_key(request.id, request.retries or 0))
        raise Reject(f"parked after {deliveries - 1} deliveries", requeue=False)

    def after_return(
        self,
        status: str,
        retval: Any,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        if task_id and not self.request.is_eager:
            cache.delete(delivery_key(task_id, self.request.retries or 0))
        super().after_return(status, retval, task_id, args, kwargs, einfo)
