"""GraphQL mutations of the metering app."""

import strawberry


@strawberry.type
class Mutation:
    pass
