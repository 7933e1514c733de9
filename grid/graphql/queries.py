"""GraphQL queries of the grid app."""

import strawberry


@strawberry.type
class Query:
    pass
