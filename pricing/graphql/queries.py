"""GraphQL queries of the pricing app."""

import strawberry


@strawberry.type
class Query:
    pass
