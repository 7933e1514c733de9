"""GraphQL mutations of the grid app (scope grid:write)."""

import strawberry
import strawberry_django
from django.utils import timezone
from strawberry.types import Info

from core.api.permissions import ScopeRequired, principal_of
from core.errors import DomainError
from grid.graphql.inputs import PowerFlowRunInput, ScenarioStartInput, SheddingPlanInput
from grid.graphql.types import PowerFlowRunType, ScenarioType, SheddingPlanType
from grid.services.dispatch import shedding_plan_dispatch_queue
from grid.services.network import network_get
from grid.services.powerflow import power_flow_single
from grid.services.scenarios import scenario_create
from grid.services.shedding import shedding_plan_approve


def _plan_id(value: strawberry.ID) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{value}: not a plan id", field="id") from None


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("grid:write")])
    def power_flow_run(self, input: PowerFlowRunInput) -> PowerFlowRunType:
        now = timezone.now()
        outcome = power_flow_single(
            network=network_get(name=input.network),
            as_of=now,
            now=now,
            load_scale=input.load_scale,
            sgen_scale=input.sgen_scale,
            out_of_service=input.out_of_service,
        )
        return outcome.run  # type: ignore[return-value]

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("grid:write")])
    def scenario_start(self, input: ScenarioStartInput) -> ScenarioType:
        scenario = scenario_create(
            network=network_get(name=input.network),
            kind=input.kind.value,
            day_start=input.day_start,
            parameters=input.parameters if isinstance(input.parameters, dict) else None,
            now=timezone.now(),
            enqueue=True,
        )
        return scenario  # type: ignore[return-value]

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("grid:write")])
    def shedding_plan_approve(self, info: Info, input: SheddingPlanInput) -> SheddingPlanType:
        user = principal_of(info).actor
        return shedding_plan_approve(  # type: ignore[return-value]
            plan_id=_plan_id(input.id), user_id=getattr(user, "pk", None), now=timezone.now()
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("grid:write")])
    def shedding_plan_dispatch(self, input: SheddingPlanInput) -> SheddingPlanType:
        """Queue the approved plan's instructions (MQTT, QoS 1, acknowledged, retried)."""
        return shedding_plan_dispatch_queue(plan_id=_plan_id(input.id))  # type: ignore[return-value]
