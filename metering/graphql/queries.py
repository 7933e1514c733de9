"""GraphQL queries of the metering app."""

import strawberry


@strawberry.type
class Query:
    pass
