"""Tests: DATABASE_URL / REDIS_URL choose the real services (CI sets both); fast hashing; no debug."""

import tempfile

from config.settings.base import *  # noqa: F403
from config.settings.base import REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process tasks, except in the real worker that tests/workers.py starts (it sets this to false): there a
# task's retry or follow-up must go through the broker like in production, not run inside the worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_CELERY_TASK_ALWAYS_EAGER", default=True)
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Signed ledger heads of the test run go to a fresh directory (tests that export use their own tmp_path).
STORAGES["price_ledger_heads"]["OPTIONS"]["location"] = tempfile.mkdtemp(prefix="price-ledger-heads-")  # noqa: F405
# The test run stays in the one Redis database it is given (services are shared); production separates the
# cache (base.py) unless REDIS_CACHE_URL is set, and tests/unit/platform/test_redis_settings.py checks that.
if REDIS_URL and not env("REDIS_CACHE_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# The demo's saved logins of the test run go to a fresh directory (tests that check them use their own).
DEMO_CREDENTIALS_FILE = str(tempfile.mkdtemp(prefix="demo-logins-")) + "/demo-credentials.json"
