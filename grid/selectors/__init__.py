"""Reads of the grid app (re-exported from the sub-domain modules)."""

from grid.selectors.network import network_counts, network_get_by_name, network_list
from grid.selectors.operations import (
    power_flow_run_list,
    scenario_list,
    shedding_plan_list,
    violation_list,
)

__all__ = [
    "network_counts",
    "network_get_by_name",
    "network_list",
    "power_flow_run_list",
    "scenario_list",
    "shedding_plan_list",
    "violation_list",
]
