"""GraphQL queries of the grid app (scope grid:read)."""

from typing import Any

import strawberry
import strawberry_django
from django.utils import timezone
from strawberry.scalars import JSON
from strawberry_django.relay import DjangoListConnection

from core.api.errors import not_found
from core.api.permissions import ScopeRequired
from grid.graphql.types import NetworkType, PowerFlowRunType, ScenarioType, SheddingPlanType
from grid.models import PowerFlowRun, Scenario, SheddingPlan
from grid.selectors.network import network_get_by_name, network_list
from grid.selectors.operations import shedding_plan_list
from grid.services.dispatch import openadr_events


def _pk(value: strawberry.ID) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _found(value: Any, message: str, field: str) -> Any:
    if value is None:
        raise not_found(message, field=field)
    return value


@strawberry.type
class Query:
    @strawberry_django.connection(
        DjangoListConnection[NetworkType], extensions=[ScopeRequired("grid:read")], max_results=200
    )
    def grid_networks(self) -> list[NetworkType]:
        return network_list()  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def grid_network(self, name: str) -> NetworkType | None:
        return _found(network_get_by_name(name=name), f"No network '{name}'.", "name")

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def power_flow_run(self, id: strawberry.ID) -> PowerFlowRunType | None:
        run = PowerFlowRun.objects.filter(pk=_pk(id)).first() if _pk(id) else None
        return _found(run, f"No power-flow run {id}.", "id")

    @strawberry_django.connection(
        DjangoListConnection[SheddingPlanType], extensions=[ScopeRequired("grid:read")], max_results=200
    )
    def shedding_plans(self, network: str | None = None, status: str | None = None) -> list[SheddingPlanType]:
        chosen = network_get_by_name(name=network) if network else None
        if network and chosen is None:
            return SheddingPlan.objects.none()  # type: ignore[return-value]
        return shedding_plan_list(network=chosen, status=status)  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def shedding_plan(self, id: strawberry.ID) -> SheddingPlanType | None:
        plan = SheddingPlan.objects.filter(pk=_pk(id)).first() if _pk(id) else None
        return _found(plan, f"No shedding plan {id}.", "id")

    @strawberry.field(extensions=[ScopeRequired("grid:read")])
    def openadr_events(self, plan_id: strawberry.ID) -> JSON:
        """The plan's load-control events in OpenADR 3 form (objectType EVENT), one per shed load."""
        plan = SheddingPlan.objects.filter(pk=_pk(plan_id)).first() if _pk(plan_id) else None
        return openadr_events(plan=_found(plan, f"No shedding plan {plan_id}.", "planId"), now=timezone.now())

    @strawberry_django.field(extensions=[ScopeRequired("grid:read")])
    def scenario(self, id: strawberry.ID) -> ScenarioType | None:
        scenario = Scenario.objects.filter(pk=_pk(id)).first() if _pk(id) else None
        return _found(scenario, f"No scenario {id}.", "id")
