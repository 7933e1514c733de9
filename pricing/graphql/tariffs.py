"""GraphQL operations of the pricing app: tariffs."""

import strawberry


@strawberry.type
class Query:
    pass


@strawberry.type
class Mutation:
    pass
