"""GraphQL queries of the metering app."""

import strawberry
import strawberry_django

from config.api.permissions import ScopeRequired
from metering import selectors
from metering.graphql.types import MeterPointType


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("metering:read")])
    def meter_point(self, identifier: str) -> MeterPointType | None:
        return selectors.meter_point_get(identifier=identifier)
