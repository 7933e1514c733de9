"""GraphQL queries of the forecasting app."""

import strawberry


@strawberry.type
class Query:
    pass
