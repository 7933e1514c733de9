"""Audit context for each request: the actor (person or OAuth application) and the client address.

The address is REMOTE_ADDR unless TRUSTED_PROXY_COUNT says how many proxies in front of us append to
X-Forwarded-For; a client cannot choose the address recorded for it by sending the header itself.
"""

from typing import Any

from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.api.auth import get_principal


def client_address(request: HttpRequest) -> str | None:
    proxies: int = settings.TRUSTED_PROXY_COUNT
    forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


class AuditActorMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_address(request)

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None

    @staticmethod
    def _get_actor(request: HttpRequest) -> "SimpleLazyObject[Any]":
        # Lazy: the token or session is only looked up when something is actually logged.
        return SimpleLazyObject(lambda: get_principal(request).actor)
