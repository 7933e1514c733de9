"""A real `celery worker` process consumes a task from Redis and answers through the result backend."""

import pytest

from config.celery import app as celery_app
from config.tasks import ping
from tests.factories import UserFactory
from tests.workers import celery_worker


@pytest.fixture
def worker(transactional_db):
    with celery_worker() as (queue, _process):
        yield queue


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_real_worker_consumes_a_task_from_redis(worker, make_api_client):
    make_api_client("billing:read")
    UserFactory()

    result = ping.apply_async(queue=worker)
    answer = result.get(timeout=60)

    assert answer["pong"] is True
    assert answer["database"] == "postgresql"
    assert answer["api_clients"] == 1  # the worker sees the rows this test committed
    assert celery_app.conf.broker_url.startswith("redis://")


def test_the_celery_app_is_configured_for_safe_long_jobs():
    conf = celery_app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {
        "default",
        "metering",
        "forecasting",
        "pricing",
        "billing",
        "grid",
    }
    assert conf.task_routes["billing.tasks.*"] == {"queue": "billing"}
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "worker-heartbeat" in conf.beat_schedule


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection, as beat does
def test_beat_syncs_the_schedule_defined_in_code_into_the_database():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    DatabaseScheduler(app=celery_app)

    task = PeriodicTask.objects.get(name="worker-heartbeat")
    assert task.task == "config.tasks.heartbeat"
    assert task.interval.every == 60
