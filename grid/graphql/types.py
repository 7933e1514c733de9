"""GraphQL types of the grid app."""

import datetime as dt
import enum
from typing import Any

import strawberry
import strawberry_django
from strawberry.scalars import JSON

from grid import models


def choice_name(field: str) -> Any:
    """A stored choice (upper case, value == name) as the API has always named it: lower case."""

    def resolve(root: Any) -> str:
        return str(getattr(root, field)).lower()

    return strawberry_django.field(resolver=resolve, only=[field])


@strawberry.enum
class ScenarioKind(enum.Enum):
    HEAT_WAVE = "heat_wave"
    CLOUDY_DAY = "cloudy_day"
    OUTAGE = "outage"
    MAINTENANCE = "maintenance"
    EVENING_RAMP = "evening_ramp"


@strawberry_django.type(models.Network, name="GridNetwork")
class NetworkType:
    name: str
    source: str = choice_name("source")
    source_reference: str
    min_vm_pu: float
    max_vm_pu: float
    created_at: dt.datetime


@strawberry_django.type(models.Violation, name="GridViolation")
class ViolationType:
    interval_start: dt.datetime | None
    contingency: str
    element: str
    kind: str = choice_name("kind")
    value: float
    limit: float


@strawberry_django.type(models.PowerFlowRun, name="PowerFlowRun")
class PowerFlowRunType:
    id: strawberry.ID
    kind: str = choice_name("kind")
    load_source: str = choice_name("load_source")
    as_of: dt.datetime
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    steps: int
    converged: bool
    buses: int
    min_vm_pu: float | None
    max_vm_pu: float | None
    max_line_loading_percent: float | None
    violation_count: int
    seconds: float
    created_at: dt.datetime

    @strawberry_django.field(only=["network__name"], select_related=["network"])
    def network(self) -> str:
        return self.network.name  # type: ignore[attr-defined]

    @strawberry_django.field
    def violations(self, first: int = 100) -> list[ViolationType]:
        first = max(0, min(first, 1000))
        return list(self.violations.order_by("interval_start", "contingency", "element", "id")[:first])  # type: ignore[attr-defined]


@strawberry_django.type(models.SheddingPlanLoad, name="SheddingPlanLoad")
class SheddingPlanLoadType:
    load_name: str
    priority: int
    p_mw: float


@strawberry_django.type(models.SheddingPlan, name="SheddingPlan")
class SheddingPlanType:
    id: strawberry.ID
    status: str = choice_name("status")
    feasible: bool
    message: str
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    violations_before: int
    violations_after: int
    shed_mw: float
    critical_shed: int
    power_flows: int
    seconds: float
    created_at: dt.datetime
    approved_at: dt.datetime | None

    @strawberry_django.field(only=["network__name"], select_related=["network"])
    def network(self) -> str:
        return self.network.name  # type: ignore[attr-defined]

    @strawberry_django.field
    def loads(self) -> list[SheddingPlanLoadType]:
        return list(self.loads.order_by("-priority", "load_name", "id"))  # type: ignore[attr-defined]


@strawberry_django.type(models.ScenarioStep, name="ScenarioStep")
class ScenarioStepType:
    interval_start: dt.datetime
    converged: bool
    load_mw: float
    pv_mw: float
    min_vm_pu: float | None
    max_line_loading_percent: float | None
    violation_count: int
    violations: JSON
    shed_mw: float


@strawberry_django.type(models.Scenario, name="Scenario")
class ScenarioType:
    id: strawberry.ID
    kind: str = choice_name("kind")
    day_start: dt.datetime
    parameters: JSON
    status: str = choice_name("status")
    error: str
    violation_steps: int
    peak_shed_mw: float
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @strawberry_django.field(only=["network__name"], select_related=["network"])
    def network(self) -> str:
        return self.network.name  # type: ignore[attr-defined]

    @strawberry_django.field
    def plan(self) -> SheddingPlanType | None:
        return self.plan  # type: ignore[attr-defined, return-value]

    @strawberry_django.field
    def steps(self) -> list[ScenarioStepType]:
        return list(self.step_results.order_by("interval_start", "id"))  # type: ignore[attr-defined]
