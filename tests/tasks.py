"""Tasks that only tests send to a real worker (tests/workers.py: `include=("tests.tasks",)`)."""

import os
import signal

from celery import shared_task
from django.core.cache import cache


@shared_task(name="tests.tasks.kill_own_worker")
def kill_own_worker(*, runs_key: str) -> None:
    """Count the run, then die as a segfault or the OOM killer would: SIGKILL of the worker's process."""
    cache.add(runs_key, 0, timeout=600)
    cache.incr(runs_key)
    os.kill(os.getpid(), signal.SIGKILL)


@shared_task(bind=True, name="tests.tasks.retry_once")
def retry_once(self) -> int:
    """Retry once after a second, on the queue it came from; answer the number of retries."""
    if self.request.retries == 0:
        raise self.retry(countdown=1, queue=self.request.delivery_info.get("routing_key"))
    return self.request.retries
