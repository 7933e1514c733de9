"""Models of the grid app, one module per sub-domain (network, operations, storage), for Django."""

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
from grid.models.storage import (
    BalancingRun,
    BatteryAsset,
    FeederLimit,
    ScheduleInterval,
    ScheduleRun,
)

__all__ = [
    "BalancingRun",
    "BatteryAsset",
    "Bus",
    "Dispatch",
    "DispatchInstruction",
    "ExtGrid",
    "FeederLimit",
    "Generator",
    "Line",
    "Load",
    "Network",
    "PowerFlowRun",
    "Scenario",
    "ScenarioStep",
    "ScheduleInterval",
    "ScheduleRun",
    "SheddingPlan",
    "SheddingPlanLoad",
    "Shunt",
    "StaticGenerator",
    "Switch",
    "TopologyEvent",
    "Transformer",
    "Violation",
]
