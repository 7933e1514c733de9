"""GraphQL inputs of the billing app."""

import strawberry


@strawberry.input
class CustomerCreateInput:
    account_number: str
    name: str
    email: str | None = None
