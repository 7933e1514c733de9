"""Tests: DATABASE_URL / REDIS_URL choose the real services (CI sets both); fast hashing; no debug."""

import tempfile

from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Signed ledger heads of the test run go to a fresh directory (tests that export use their own tmp_path).
STORAGES["price_ledger_heads"]["OPTIONS"]["location"] = tempfile.mkdtemp(prefix="price-ledger-heads-")  # noqa: F405
