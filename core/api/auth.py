"""Who is calling: an OAuth2 client (bearer token), a staff or customer session, or nobody.

The principal is resolved lazily, once per request, so that a query rejected by the limits never touches
the database.
"""

import enum
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from oauth2_provider.oauth2_backends import get_oauthlib_core


class Kind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - a kind, not a secret
    CLIENT = "client"
    STAFF = "staff"
    USER = "user"  # a signed-in person without staff rights: a customer in the portal


@dataclass(frozen=True)
class Principal:
    kind: Kind
    scopes: frozenset[str] = field(default_factory=frozenset)
    user: Any = None
    application: Any = None

    @property
    def is_authenticated(self) -> bool:
        return self.kind in (Kind.CLIENT, Kind.STAFF, Kind.USER)

    @property
    def actor(self) -> Any:
        """The user the audit trail records: the person, or the OAuth application's service account."""
        if self.kind == Kind.CLIENT:
            return self.user or self.application.user
        return self.user if self.kind in (Kind.STAFF, Kind.USER) else None


def bearer_token_present(request: HttpRequest) -> bool:
    return "HTTP_AUTHORIZATION" in request.META


def get_principal(request: HttpRequest) -> Principal:
    cached: Principal | None = getattr(request, "_api_principal", None)
    if cached is None:
        cached = _resolve(request)
        request._api_principal = cached  # type: ignore[attr-defined]  # our own attribute on the request
    return cached


def _resolve(request: HttpRequest) -> Principal:
    if bearer_token_present(request):
        if not request.META["HTTP_AUTHORIZATION"].lower().startswith("bearer "):
            return Principal(Kind.INVALID_TOKEN)
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
        if not valid:
            return Principal(Kind.INVALID_TOKEN)
        token = oauth_request.access_token
        return Principal(
            Kind.CLIENT, frozenset(token.scope.split()), user=token.user, application=token.application
        )
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return Principal(Kind.ANONYMOUS)
    if user.is_staff:
        return Principal(Kind.STAFF, frozenset(settings.API_SCOPES), user=user)
    return Principal(Kind.USER, user=user)
