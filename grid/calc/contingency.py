"""N-1: each listed line out in turn, as few full power flows as the topology allows (Django-free).

A line whose outage splits the network (a *bridge* of the closed topology: every line of a radial MV feeder
or of an open ring) leaves the part on the slack's side as it was, minus the island below it. Such an outage
is screened with a power flow on the unchanged topology in which the island's loads and generators draw and
give nothing (pandapower reuses its matrices: a fraction of a full run); the island's buses and branches get
no result. The screen differs from the real outage only by the island's cable charging, so a contingency is
re-run exactly (the line really out) whenever the screen shows a new violation or a new element within
`margin` of its limit; reported violations always come from an exact power flow. Lines in a mesh (their
outage splits nothing) are run exactly.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from grid.calc.powerflow import PowerFlowModel, PowerFlowResult, ViolationRow

VOLTAGE_MARGIN_PU = 0.005
LOADING_MARGIN_PERCENT = 2.0


@dataclass
class Contingency:
    label: str
    result: PowerFlowResult  # violations: those new against the intact case
    method: str  # "screened" (island by connectivity) or "exact" (the line out in a full power flow)
    islanded_buses: int = 0


@dataclass
class ContingencyStudy:
    base: PowerFlowResult
    contingencies: list[Contingency]
    exact_runs: int
    screened_runs: int


def _bridges(model: PowerFlowModel) -> dict[int, np.ndarray]:
    """For each line position that is a bridge of the closed topology: the bus positions its outage cuts off
    from the slack (the downstream side)."""
    import networkx as nx
    import pandapower.topology as top

    from grid.calc.shedding import Tree

    net = model.net
    graph = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False, multi=True)
    simple = nx.Graph(graph)
    bridge_pairs = {
        frozenset((u, v)) for u, v in nx.bridges(simple) if graph.number_of_edges(u, v) == 1 and u != v
    }
    tree = Tree(net)
    by_tin = np.argsort(tree.tin)
    out: dict[int, np.ndarray] = {}
    keys = {key for _, _, key in graph.edges(keys=True)}
    for position, index in enumerate(net.line.index):
        if ("line", int(index)) not in keys:
            continue  # out of service or cut by an open switch: its outage changes nothing
        a, b = model.line_buses[0][position], model.line_buses[1][position]
        pair = frozenset((int(net.bus.index[a]), int(net.bus.index[b])))
        if pair not in bridge_pairs or tree.depth[a] < 0 or tree.depth[b] < 0:
            continue
        down = b if tree.depth[b] > tree.depth[a] else a
        out[position] = by_tin[tree.tin[down] : tree.tout[down]]
    return out


def _near(model: PowerFlowModel, result: PowerFlowResult) -> set[tuple[str, str]]:
    """Elements at or within the margin of a limit."""
    rows: set[tuple[str, str]] = set()
    with np.errstate(invalid="ignore"):
        vm = result.vm_pu
        rows |= {
            (str(model.bus_labels[i]), "undervoltage")
            for i in np.flatnonzero(vm < model.bus_min + VOLTAGE_MARGIN_PU)
        }
        rows |= {
            (str(model.bus_labels[i]), "overvoltage")
            for i in np.flatnonzero(vm > model.bus_max - VOLTAGE_MARGIN_PU)
        }
        for loading, limit, labels in (
            (result.line_loading_percent, model.line_max, model.line_labels),
            (result.trafo_loading_percent, model.trafo_max, model.trafo_labels),
        ):
            rows |= {
                (str(labels[i]), "overload") for i in np.flatnonzero(loading > limit - LOADING_MARGIN_PERCENT)
            }
    return rows


def _new(violations: list[ViolationRow], base: set[tuple[str, str]]) -> list[ViolationRow]:
    return [v for v in violations if (v.element, v.kind) not in base]


def n_minus_1(
    model: PowerFlowModel,
    labels: list[str],
    *,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    screen: bool = True,
) -> ContingencyStudy:
    """Each `line:NAME` of `labels` out in turn; `screen=False` runs every outage exactly (for tests)."""
    inputs: dict[str, Any] = {"load_scale": load_scale, "sgen_scale": sgen_scale}
    base = model.run(**inputs)
    base_set = {(v.element, v.kind) for v in base.violations}
    base_near = _near(model, base) if base.converged else set()
    intact = model.results_snapshot() if base.converged else None
    islands = _bridges(model) if screen and base.converged else {}
    load_p = model.load_p * load_scale
    load_q = model.load_q * load_scale
    sgen_p = model.sgen_p * sgen_scale
    sgen_q = model.sgen_q * sgen_scale
    found: dict[str, Contingency] = {}
    exact: list[str] = []
    screened_runs = 0
    for label in labels:
        position = model.line_position.get(label)
        if position is None:
            exact.append(label)  # a transformer or unknown: outage_mask names the problem
            continue
        island = islands.get(position)
        if island is None:
            exact.append(label)
            continue
        cut = np.zeros(len(model.bus_labels), dtype=bool)
        cut[island] = True
        load_off = cut[model.load_bus]
        sgen_off = cut[model.sgen_bus]
        result = model.run(
            load_p=np.where(load_off, 0.0, load_p),
            load_q=np.where(load_off, 0.0, load_q),
            sgen_p=np.where(sgen_off, 0.0, sgen_p),
            sgen_q=np.where(sgen_off, 0.0, sgen_q),
        )
        screened_runs += 1
        if not result.converged:
            exact.append(label)
            continue
        # The island has no voltage and its branches carry nothing once the line is really out.
        result.vm_pu[cut] = np.nan
        line_cut = cut[model.line_buses[0]] | cut[model.line_buses[1]]
        line_cut[position] = True
        result.line_loading_percent[line_cut] = np.nan
        result.trafo_loading_percent[cut[model.trafo_buses[0]] | cut[model.trafo_buses[1]]] = np.nan
        result.violations = model.violations(result)
        new = _new(result.violations, base_set)
        if new or not _near(model, result) <= base_near:
            exact.append(label)  # close to a limit: the island's charging could matter; run it for real
            continue
        result.violations = new
        found[label] = Contingency(label, result, "screened", int(cut.sum()))
    for label in exact:
        lines, trafos = model.outage_mask([label])
        if intact is not None:
            model.warm_from(intact)  # each contingency starts from the intact case, not the previous one
        result = model.run(line_in_service=lines, trafo_in_service=trafos, **inputs)
        islanded = int(np.isnan(result.vm_pu).sum()) if result.converged else 0
        result.violations = _new(result.violations, base_set)
        found[label] = Contingency(label, result, "exact", islanded)
    model.run(**inputs)  # back to intact, warm for the next caller
    return ContingencyStudy(
        base=base,
        contingencies=[found[label] for label in labels],
        exact_runs=len(exact),
        screened_runs=screened_runs,
    )
