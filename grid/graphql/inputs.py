"""GraphQL inputs of the grid app."""

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from grid.graphql.types import ScenarioKind


@strawberry.input
class PowerFlowRunInput:
    network: str
    load_scale: float = 1.0
    sgen_scale: float = 1.0
    out_of_service: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ScenarioStartInput:
    network: str
    kind: ScenarioKind
    day_start: dt.datetime
    parameters: JSON | None = None


@strawberry.input
class SheddingPlanInput:
    id: strawberry.ID
