"""Models of the grid app, one module per sub-domain."""

from grid.models.storage import (
    BalancingRun,
    BatteryAsset,
    FeederLimit,
    ScheduleInterval,
    ScheduleRun,
)

__all__ = ["BalancingRun", "BatteryAsset", "FeederLimit", "ScheduleInterval", "ScheduleRun"]
