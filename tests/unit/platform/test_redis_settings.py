"""Redis: the password travels in REDIS_URL; the cache gets its own database, derived from REDIS_URL."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.base import redis_db, redis_url_with_db

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("url", "db", "expected"),
    [
        ("redis://:s3cret@redis.internal:6379/0", 1, "redis://:s3cret@redis.internal:6379/1"),
        (
            "rediss://app:s3cret@redis.internal:6380/4?ssl_cert_reqs=required",
            5,
            "rediss://app:s3cret@redis.internal:6380/5?ssl_cert_reqs=required",
        ),
        ("redis://localhost:6379", 1, "redis://localhost:6379/1"),
    ],
)
def test_the_database_of_a_redis_url_is_replaced_keeping_credentials(url, db, expected):
    assert redis_url_with_db(url, db) == expected


def test_a_url_without_a_database_means_database_zero():
    assert redis_db("redis://localhost:6379") == 0
    assert redis_db("redis://:pw@localhost:6379/3") == 3


def _production_settings(**environment: str) -> dict:
    """CACHES and the Celery URLs of the production settings under `environment` (a fresh process)."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({'cache': settings.CACHES['default'].get('LOCATION'), "
        "'broker': settings.CELERY_BROKER_URL, 'results': settings.CELERY_RESULT_BACKEND}))"
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "CELERY_", "DJANGO_", "DATABASE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="example.org",
        PRICE_LEDGER_HMAC_KEY="k",
        **environment,
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_puts_the_cache_in_a_separate_database_with_the_same_password():
    """RELIABILITY check 42 (Celery and Redis configuration hygiene): Redis with a password; the cache is
    not in the broker's database."""
    found = _production_settings(REDIS_URL="redis://:s3cret@redis.internal:6379/0")

    assert found == {
        "cache": "redis://:s3cret@redis.internal:6379/1",
        "broker": "redis://:s3cret@redis.internal:6379/0",
        "results": "redis://:s3cret@redis.internal:6379/0",
    }


def test_an_explicit_cache_url_wins():
    found = _production_settings(
        REDIS_URL="redis://:s3cret@redis.internal:6379/0",
        REDIS_CACHE_URL="redis://:other@cache.internal:6379/0",
    )

    assert found["cache"] == "redis://:other@cache.internal:6379/0"
