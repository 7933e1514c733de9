"""GraphQL mutations of the billing app."""

import strawberry
import strawberry_django

from billing import services
from billing.graphql.inputs import CustomerCreateInput
from billing.graphql.types import CustomerType
from config.api.permissions import ScopeRequired


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def customer_create(self, input: CustomerCreateInput) -> CustomerType:
        return services.customer_create(
            account_number=input.account_number, name=input.name, email=input.email or ""
        )
