"""Tests: DATABASE_URL / REDIS_URL choose the real services (CI sets both); fast hashing; no debug."""

from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process tasks, except in the real worker that tests/workers.py starts (it sets this to false): there a
# task's retry or follow-up must go through the broker like in production, not run inside the worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_CELERY_TASK_ALWAYS_EAGER", default=True)  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
