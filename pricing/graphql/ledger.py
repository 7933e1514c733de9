"""GraphQL operations of the pricing app: ledger."""

import strawberry


@strawberry.type
class Query:
    pass


@strawberry.type
class Mutation:
    pass
