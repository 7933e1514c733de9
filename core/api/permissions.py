"""Scope permissions for GraphQL fields.

`ScopeRequired("billing:read")` lets through an OAuth2 client whose token carries the scope and staff
whose permissions grant it (core.api.auth); `signed_in_users=True` also lets through signed-in customers
(by session, or by a token issued to them that carries the scope), whose resolvers must then filter to
their own objects. No or a bad token: UNAUTHENTICATED; a missing scope: FORBIDDEN.
"""

from collections.abc import Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from core.api.auth import Kind, Principal, get_principal
from core.api.errors import api_error
from core.errors import FORBIDDEN, UNAUTHENTICATED


def principal_of(info: Info) -> Principal:
    return get_principal(info.context.request)


def check_access(principal: Principal, scope: str | None, *, signed_in_users: bool) -> None:
    if principal.kind == Kind.INVALID_TOKEN:
        raise api_error("The access token is invalid, expired or revoked.", UNAUTHENTICATED)
    if principal.kind == Kind.ANONYMOUS:
        raise api_error("Authentication required.", UNAUTHENTICATED)
    if principal.kind == Kind.USER:
        if not signed_in_users:
            raise api_error("This operation is not available to customer accounts.", FORBIDDEN)
        if principal.application is None or scope is None or scope in principal.scopes:
            return  # a session, or a token that carries the scope
    if scope is not None and scope not in principal.scopes:
        raise api_error(f"This operation needs the scope '{scope}'.", FORBIDDEN, scope=scope)


class ScopeRequired(FieldExtension):
    def __init__(self, scope: str | None, *, signed_in_users: bool = False) -> None:
        super().__init__()
        self.scope = scope
        self.signed_in_users = signed_in_users

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        check_access(principal_of(info), self.scope, signed_in_users=self.signed_in_users)
        return next_(source, info, **kwargs)


class SignedInUserRequired(FieldExtension):
    """Only a person's session (customer or staff): e.g. `me`."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        principal = principal_of(info)
        if principal.kind in (Kind.ANONYMOUS, Kind.INVALID_TOKEN):
            check_access(principal, None, signed_in_users=True)
        if principal.kind == Kind.CLIENT:
            raise api_error("This field is for signed-in people, not API clients.", FORBIDDEN)
        return next_(source, info, **kwargs)
