"""A real `celery worker` process consumes a task from Redis and answers through the result backend."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app
from config.tasks import ping
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def worker(transactional_db):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = eager
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


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
