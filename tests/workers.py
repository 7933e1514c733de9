"""A real `celery worker` process on its own queue, against the test database and Redis."""

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def celery_worker(
    *, pool: str = "solo", include: tuple[str, ...] = (), **env: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start a worker (solo pool, or `pool="prefork"`: one child process) consuming a fresh queue; yield
    (queue, process). Tasks sent meanwhile go to Redis, not in-process. `include`: more task modules (e.g.
    tests.tasks). The test must use a transactional database so the worker sees its rows."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = settings.DATABASES["default"]
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
            pool,
            *(f"--include={module}" for module in include),
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "TEST_CELERY_TASK_ALWAYS_EAGER": "false",  # retries and follow-up tasks go through Redis
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue, process
    finally:
        celery_app.conf.task_always_eager = eager
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
