"""GraphQL queries of the billing app."""

import strawberry
import strawberry_django
from strawberry.types import Info

from billing import selectors
from billing.graphql.types import CustomerType
from config.api.auth import Kind
from config.api.permissions import ScopeRequired, SignedInUserRequired, principal_of


def _customer_filter_user(info: Info):
    principal = principal_of(info)
    return principal.user if principal.kind == Kind.USER else None


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("billing:read", signed_in_users=True)])
    def customer(self, info: Info, account_number: str) -> CustomerType | None:
        return selectors.customer_get(
            account_number=account_number, visible_to_user=_customer_filter_user(info)
        )

    @strawberry_django.field(extensions=[SignedInUserRequired()])
    def me(self, info: Info) -> CustomerType | None:
        return selectors.customer_for_user(user=principal_of(info).user)
