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
