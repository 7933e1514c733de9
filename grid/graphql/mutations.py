"""GraphQL mutations of the grid app."""

import strawberry


@strawberry.type
class Mutation:
    pass
