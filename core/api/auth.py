"""Who is calling: an OAuth2 client (bearer token), a staff or customer session, or nobody.

- A client-credentials token (no user) acts as its application, with the token's scopes.
- A token issued to a user (authorization code) acts as that user: a customer sees their own data only
  (and only within the token's scopes); a staff user gets the token's scopes that their permissions allow.
- A staff session gets the scopes of its permissions (`session_scopes`), not all of them.

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
            return self.application.user
        return self.user if self.kind in (Kind.STAFF, Kind.USER) else None

    @property
    def client_key(self) -> str:
        """Whose idempotency keys these are: the OAuth application of the token, else the signed-in user."""
        if self.application is not None:
            return f"app:{self.application.client_id}"
        return f"user:{self.user.pk}" if self.user is not None else ""


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
        scopes = frozenset(token.scope.split())
        if token.user is None:
            return Principal(Kind.CLIENT, scopes, application=token.application)
        user = token.user
        if not user.is_active:
            return Principal(Kind.INVALID_TOKEN)
        if user.is_staff:
            return Principal(
                Kind.STAFF, scopes & session_scopes(user), user=user, application=token.application
            )
        return Principal(Kind.USER, scopes, user=user, application=token.application)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return Principal(Kind.ANONYMOUS)
    if user.is_staff:
        return Principal(Kind.STAFF, session_scopes(user), user=user)
    return Principal(Kind.USER, user=user)


def scope_permission(scope: str) -> str:
    """The Django permission (`app_label.codename`) that grants a staff user an API scope."""
    from core.models import SCOPE_PERMISSIONS  # models are not ready when this module is imported

    return f"core.{SCOPE_PERMISSIONS[scope]}"


def session_scopes(user: Any) -> frozenset[str]:
    """The API scopes a staff user holds through their permissions and groups (all for a superuser)."""
    return frozenset(scope for scope in settings.API_SCOPES if user.has_perm(scope_permission(scope)))
