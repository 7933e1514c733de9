"""GraphQL queries of the metering app."""

import strawberry
import strawberry_django

from core.api.errors import not_found
from core.api.permissions import ScopeRequired
from metering.graphql.types import MeterPointType
from metering.selectors import readings as selectors


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("metering:read")])
    def meter_point(self, identifier: str) -> MeterPointType | None:
        point = selectors.meter_point_get(identifier=identifier)
        if point is None:
            raise not_found(f"No meter point '{identifier}'.", field="identifier")
        return point
