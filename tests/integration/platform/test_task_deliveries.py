"""A task that always kills its worker is parked after N deliveries instead of looping forever (issue 10
item 17; RELIABILITY.md check 37: "a poison task that always dies is bounded by a max-delivery counter and
dead-lettered, not looped forever")."""

import time
import uuid

import pytest
from django.core.cache import cache

from core.models import ParkedTask
from core.task_deliveries import DeliveryCountedTask, delivery_key
from tests.tasks import kill_own_worker, retry_once
from tests.workers import celery_worker


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_task_that_always_kills_its_worker_is_parked_after_n_deliveries(transactional_db, admin_client):
    """Check 37: the pool child is SIGKILLed on every delivery; after CELERY_TASK_MAX_DELIVERIES (3) the
    next delivery parks the task (row, admin list, metric) and the worker carries on."""
    runs_key = f"test-runs-{uuid.uuid4().hex[:8]}"
    with celery_worker(pool="prefork", include=("tests.tasks",), CELERY_TASK_MAX_DELIVERIES="3") as (
        queue,
        worker,
    ):
        # A retry goes through Redis and runs again in the worker (it is not run inside the worker) and
        # counts its deliveries afresh.
        assert retry_once.apply_async(queue=queue).get(timeout=60) == 1

        result = kill_own_worker.apply_async(kwargs={"runs_key": runs_key}, queue=queue)
        wait_for(
            lambda: ParkedTask.objects.exists(),
            timeout=90,
            what=f"the task to be parked ({cache.get(runs_key)} runs)",
        )
        time.sleep(2)  # nothing runs it again

        assert worker.poll() is None  # the worker (its main process) lives on
        assert cache.get(runs_key) == 3
    parked = ParkedTask.objects.get()
    assert (parked.task_id, parked.task_name, parked.kwargs) == (
        result.id,
        "tests.tasks.kill_own_worker",
        {"runs_key": runs_key},
    )
    assert (parked.deliveries, parked.queue) == (3, queue)
    assert cache.get(delivery_key(result.id, 0)) is None
    assert b"tests.tasks.kill_own_worker" in admin_client.get("/admin/core/parkedtask/").content
    metrics = admin_client.get("/metrics").content.decode()
    assert 'celery_tasks_parked{task="tests.tasks.kill_own_worker"} 1.0' in metrics


def test_every_task_of_the_app_counts_its_deliveries():
    from billing.tasks.bill_runs import bill_run_execute_task
    from config.tasks import ping

    assert isinstance(ping, DeliveryCountedTask)
    assert isinstance(bill_run_execute_task, DeliveryCountedTask)
