"""GraphQL mutations of the pricing app."""

import strawberry


@strawberry.type
class Mutation:
    pass
