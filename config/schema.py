"""The root GraphQL schema: the apps' Query and Mutation types merged, plus the shared extensions."""

import datetime
from decimal import Decimal

import strawberry
from django.conf import settings
from strawberry.schema.config import StrawberryConfig

from billing.graphql.mutations import Mutation as BillingMutation
from billing.graphql.queries import Query as BillingQuery
from core.api.execution import ExecutionContext
from core.api.extensions import schema_extensions
from core.api.merge import merge_root_types
from core.api.scalars import BoundedDate, BoundedDateTime, SafeDecimal
from forecasting.graphql.mutations import Mutation as ForecastingMutation
from forecasting.graphql.queries import Query as ForecastingQuery
from grid.graphql.mutations import Mutation as GridMutation
from grid.graphql.queries import Query as GridQuery
from grid.graphql.storage_mutations import Mutation as StorageMutation
from grid.graphql.storage_queries import Query as StorageQuery
from metering.graphql.mutations import Mutation as MeteringMutation
from metering.graphql.queries import Query as MeteringQuery
from pricing.graphql.mutations import Mutation as PricingMutation
from pricing.graphql.queries import Query as PricingQuery

Query = merge_root_types(
    "Query",
    (MeteringQuery, ForecastingQuery, PricingQuery, BillingQuery, GridQuery, StorageQuery),
)
Mutation = merge_root_types(
    "Mutation",
    (
        MeteringMutation,
        ForecastingMutation,
        PricingMutation,
        BillingMutation,
        GridMutation,
        StorageMutation,
    ),
)

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=schema_extensions(),
    config=StrawberryConfig(
        scalar_map={
            Decimal: SafeDecimal,
            datetime.date: BoundedDate,
            datetime.datetime: BoundedDateTime,
        },
        relay_max_results=settings.GRAPHQL_MAX_PAGE_SIZE,
    ),
    execution_context_class=ExecutionContext,
)
