"""Project-level jobs (queue "default")."""

import socket

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import clear_expired

from config.health import HEARTBEAT_KEY
from core.selectors import api_client_count


@shared_task
def heartbeat() -> str:
    """Record that a worker (and beat) is alive; /healthz shows the time."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=3600)
    return now


@shared_task
def ping() -> dict:
    """Round trip through a worker and its database; used by readiness checks and tests."""
    return {
        "pong": True,
        "worker": socket.gethostname(),
        "database": connection.vendor,
        "api_clients": api_client_count(),
    }


@shared_task
def oauth_tokens_clear() -> None:
    """Delete expired access tokens, refresh tokens past their lifetime, and old grants (`cleartokens`)."""
    clear_expired()
