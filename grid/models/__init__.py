"""Models of the grid app, one module per sub-domain (network, operations), re-exported here."""

from grid.models.network import (
    Bus,
    ExtGrid,
    Generator,
    Line,
    Load,
    Network,
    Shunt,
    StaticGenerator,
    Switch,
    TopologyEvent,
    Transformer,
)
from grid.models.operations import (
    Dispatch,
    DispatchInstruction,
    PowerFlowRun,
    Scenario,
    ScenarioStep,
    SheddingPlan,
    SheddingPlanLoad,
    Violation,
)

__all__ = [
    "Bus",
    "Dispatch",
    "DispatchInstruction",
    "ExtGrid",
    "Generator",
    "Line",
    "Load",
    "Network",
    "PowerFlowRun",
    "Scenario",
    "ScenarioStep",
    "SheddingPlan",
    "SheddingPlanLoad",
    "Shunt",
    "StaticGenerator",
    "Switch",
    "TopologyEvent",
    "Transformer",
    "Violation",
]
