"""GraphQL mutations of the forecasting app."""

import strawberry


@strawberry.type
class Mutation:
    pass
