"""Load-shedding plans: clear every violation shedding the least load, lowest priority first, never
priority 0.

The plan (`shedding_plan`):
1. One power flow finds the violations. Each is placed in the radial tree that a breadth-first search from
   the slack draws over the closed topology: an overloaded line/transformer at its downstream bus, an
   undervoltage at the topmost undervoltage bus above it. Violations whose places nest form one *area*; the
   candidates of an area are its subtree's loads, except critical ones (priority 0), ordered by priority
   (higher numbers first), then by how many violation places lie above them, then by voltage (lowest first:
   shedding there relieves most), then by size.
2. One power flow sheds every candidate: an area still in violation climbs one bus up (a wider subtree),
   up to `max_climbs` times; an area that still cannot be cleared is infeasible without critical loads.
3. Bisection over each area's candidate order, all areas at once in each power flow, down to
   `1/bisection_steps` of the order (the shortest prefix found that clears the area, or a little more).
4. Restore: the shed loads of each area grouped by the transformer they hang from (or else by the feeder
   below the area's top); per group a bisection on how many of its last-shed loads can be given back, all
   groups in each power flow, then one power flow checks the counts together. This gives back what a
   single order over a whole area sheds too much: loads of feeders that a lower-priority load elsewhere
   needed shedding for, and the tail of the coarse bisection.
5. A last power flow checks the whole net; violations it finds outside the areas start another round.
6. Shedding every load of a bus lets its voltage rise towards the slack's set point, which may be above a
   tight limit of that bus (SimBench gives 100 LV buses of `1-MVLV-urban-all-0-sw` a 1.01 pu limit under a
   1.025 pu slack). Shed loads below a bus that the plan pushed above its limit are given back when no
   undervoltage or overload comes back; otherwise the message says so.
Overvoltage that was there before shedding cannot be cleared by shedding load: it is reported and left alone.

`greedy_plan` sheds one load at a time in the same order, re-read from the power flows, for comparison in
the benchmark.
"""

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from grid.calc.powerflow import PowerFlowModel, PowerFlowResult, ViolationRow

SHEDDABLE_KINDS = {"overload", "undervoltage"}


@dataclass
class SheddingResult:
    feasible: bool
    shed: np.ndarray  # boolean mask over the net's loads
    shed_p_mw: np.ndarray  # MW each shed load had in the run
    violations_before: list[ViolationRow]
    violations_after: list[ViolationRow]
    power_flows: int
    seconds: float
    converged: bool = True
    message: str = ""
    load_names: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    critical_shed: int = 0

    @property
    def shed_mw(self) -> float:
        return float(self.shed_p_mw[self.shed].sum())


class Tree:
    """A breadth-first spanning tree of the closed, in-service topology from the slack buses.

    The graph is pandapower's topology graph (`create_nxgraph(respect_switches=True)`): in-service lines and
    transformers that no open switch cuts, and closed bus-bus switches. Nets with only those branch kinds are
    read straight from the tables into a sparse graph searched by scipy (milliseconds on 10,000 buses); nets
    with other branch kinds (impedances, 3-winding transformers, DC lines, ...) go through pandapower's graph.
    """

    def __init__(self, net: Any) -> None:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import breadth_first_order

        bus_index = net.bus.index.to_numpy()
        n = len(bus_index)
        self.position = {int(b): i for i, b in enumerate(bus_index)}
        self.lookup = np.full(int(bus_index.max()) + 1 if n else 1, -1, dtype=np.int64)
        self.lookup[bus_index] = np.arange(n)
        a, b = _graph_edges(net, self.position, self.lookup)
        slack = [int(v) for v in net.ext_grid.loc[net.ext_grid["in_service"], "bus"]]
        if len(net.gen) and "slack" in net.gen:
            slack += [int(v) for v in net.gen.loc[net.gen["slack"] & net.gen["in_service"], "bus"]]
        roots = [self.position[v] for v in dict.fromkeys(slack)]
        # A virtual node n joins every slack bus, so one search covers them all.
        rows = np.concatenate([a, b, np.full(len(roots), n, dtype=np.int64)])
        cols = np.concatenate([b, a, np.asarray(roots, dtype=np.int64)])
        graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
        order, predecessors = breadth_first_order(graph, n, directed=True, return_predecessors=True)
        self.parent = np.full(n, -1, dtype=np.int64)
        self.depth = np.full(n, -1, dtype=np.int64)
        children: list[list[int]] = [[] for _ in range(n)]
        depth = self.depth
        for node in order[1:].tolist():
            parent = int(predecessors[node])
            if parent == n:
                depth[node] = 0
            else:
                depth[node] = depth[parent] + 1
                self.parent[node] = parent
                children[parent].append(node)
        # Euler tour: the subtree of u is every position v with tin[u] <= tin[v] < tout[u].
        self.tin = np.full(n, -1, dtype=np.int64)
        self.tout = np.full(n, -1, dtype=np.int64)
        clock = 0
        roots = [self.position[b] for b in slack]
        for root in dict.fromkeys(roots):
            stack = [(root, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    self.tout[node] = clock
                    continue
                self.tin[node] = clock
                clock += 1
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children[node]))
        self.children = children

    def is_ancestor(self, upper: int, lower: int) -> bool:
        return bool(self.tin[upper] <= self.tin[lower] < self.tout[upper])


def _graph_edges(net: Any, position: dict[int, int], lookup: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bus positions at both ends of every edge of pandapower's topology graph with open switches respected
    and out-of-service elements and buses left out."""
    other = ("impedance", "trafo3w", "dcline", "tcsc", "vsc", "line_dc")
    if any(kind in net and len(net[kind]) for kind in other):
        import pandapower.topology as top

        graph = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
        pairs = np.array([(position[int(u)], position[int(v)]) for u, v in graph.edges()], dtype=np.int64)
        pairs = pairs.reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]
    switch = net.switch
    open_switch = ~switch["closed"].to_numpy(dtype=bool)
    kinds = switch["et"].to_numpy()
    elements = switch["element"].to_numpy()
    ends = []
    for frame, kind, x, y in ((net.line, "l", "from_bus", "to_bus"), (net.trafo, "t", "hv_bus", "lv_bus")):
        keep = frame["in_service"].to_numpy(dtype=bool)
        keep &= ~np.isin(frame.index.to_numpy(), elements[(kinds == kind) & open_switch])
        ends.append((frame[x].to_numpy()[keep], frame[y].to_numpy()[keep]))
    bus_bus = (kinds == "b") & ~open_switch
    ends.append((switch["bus"].to_numpy()[bus_bus], elements[bus_bus]))
    a = lookup[np.concatenate([e[0] for e in ends]).astype(np.int64)]
    b = lookup[np.concatenate([e[1] for e in ends]).astype(np.int64)]
    in_service = net.bus["in_service"].to_numpy(dtype=bool)
    keep = (a >= 0) & (b >= 0)
    keep[keep] &= in_service[a[keep]] & in_service[b[keep]]
    return a[keep], b[keep]


class _Places:
    """Where violations sit in the tree, as arrays: overloaded branches at their downstream bus, undervoltage
    at the topmost undervoltage bus above it."""

    def __init__(self, model: PowerFlowModel, tree: Tree) -> None:
        net = model.net
        self.tree = tree
        self.model = model
        downstream = []
        for frame, a, b in ((net.line, "from_bus", "to_bus"), (net.trafo, "hv_bus", "lv_bus")):
            x = tree.lookup[frame[a].to_numpy(dtype=np.int64)]
            y = tree.lookup[frame[b].to_numpy(dtype=np.int64)]
            deeper = np.where(tree.depth[y] >= tree.depth[x], y, x)
            reached = (tree.depth[x] >= 0) | (tree.depth[y] >= 0)
            downstream.append(np.where(reached, deeper, -1))
        self.line_down, self.trafo_down = downstream
        order = np.argsort(tree.depth, kind="stable")
        self.levels = (
            [order[tree.depth[order] == d] for d in range(1, int(tree.depth.max()) + 1)] if len(order) else []
        )
        # For each bus, the nearest transformer at or above it (its low-voltage bus, when the tree reaches it
        # through that transformer), else -1: the unit loads are restored by.
        below = self.trafo_down[self.trafo_down >= 0]
        hv = np.where(self.trafo_down >= 0, tree.lookup[net.trafo["hv_bus"].to_numpy(dtype=np.int64)], -1)
        lv = np.where(self.trafo_down >= 0, tree.lookup[net.trafo["lv_bus"].to_numpy(dtype=np.int64)], -1)
        through = (self.trafo_down >= 0) & (tree.parent[np.clip(lv, 0, None)] == hv) & (below.size > 0)
        self.transformer_top = np.full(len(tree.depth), -1, dtype=np.int64)
        self.transformer_top[lv[through]] = lv[through]
        for nodes in self.levels:
            inherit = nodes[self.transformer_top[nodes] < 0]
            self.transformer_top[inherit] = self.transformer_top[tree.parent[inherit]]

    def places(self, result: PowerFlowResult) -> np.ndarray:
        """Tree positions of every sheddable violation of `result` (unreached elements left out)."""
        tree, model = self.tree, self.model
        vm = np.nan_to_num(result.vm_pu, nan=np.inf)
        under = vm < model.bus_min - 1e-9
        top = np.arange(len(vm))
        for nodes in self.levels:
            parents = tree.parent[nodes]
            climb = under[nodes] & under[parents]
            top[nodes[climb]] = top[parents[climb]]
        with np.errstate(invalid="ignore"):
            lines = self.line_down[result.line_loading_percent > model.line_max + 1e-9]
            trafos = self.trafo_down[result.trafo_loading_percent > model.trafo_max + 1e-9]
        found = np.concatenate([top[np.flatnonzero(under & (tree.depth >= 0))], lines, trafos])
        return np.unique(found[found >= 0])


def _order_candidates(
    positions: np.ndarray, priority: np.ndarray, vm_at_load: np.ndarray, p_mw: np.ndarray, cover: np.ndarray
) -> np.ndarray:
    """Priority descending, then loads below more violations first, then voltage ascending, size
    descending."""
    return positions[
        np.lexsort((-p_mw[positions], vm_at_load[positions], -cover[positions], -priority[positions]))
    ]


def _coverage(tree: Tree, found: np.ndarray, load_tin: np.ndarray) -> np.ndarray:
    """For each load, how many violation places lie above it (or at its bus)."""
    delta = np.zeros(len(tree.tin) + 1, dtype=np.int64)
    np.add.at(delta, tree.tin[found], 1)
    np.add.at(delta, tree.tout[found], -1)
    counts: npt.NDArray[np.int64] = np.cumsum(delta)[load_tin]
    return counts


def _sheddable(violations: list[ViolationRow]) -> list[ViolationRow]:
    return [v for v in violations if v.kind in SHEDDABLE_KINDS]


def shedding_plan(
    model: PowerFlowModel,
    *,
    priority: np.ndarray,
    load_p: np.ndarray | None = None,
    load_q: np.ndarray | None = None,
    sgen_p: np.ndarray | None = None,
    sgen_q: np.ndarray | None = None,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    line_in_service: np.ndarray | None = None,
    max_climbs: int = 3,
    bisection_steps: int = 16,
    max_rounds: int = 3,
) -> SheddingResult:
    """The plan for one operating point; `priority` is aligned with the net's loads (0 = never shed)."""
    started = time.perf_counter()
    flows_before = model.power_flows
    base_p = (model.load_p if load_p is None else load_p) * load_scale
    n_loads = len(base_p)
    priority = np.asarray(priority, dtype=np.int64)
    sheddable = (priority > 0) & model.load_in_service & (base_p > 0)
    shed = np.zeros(n_loads, dtype=bool)

    def run(mask: np.ndarray) -> PowerFlowResult:
        return model.run(
            shed=mask,
            load_p=load_p,
            load_q=load_q,
            sgen_p=sgen_p,
            sgen_q=sgen_q,
            load_scale=load_scale,
            sgen_scale=sgen_scale,
            line_in_service=line_in_service,
        )

    before = run(shed)
    if not before.converged:
        return _result(
            False,
            shed,
            base_p,
            [],
            [],
            model,
            flows_before,
            started,
            model.load_names,
            "The power flow does not converge at this operating point: no plan can be computed.",
            converged=False,
        )
    if not _sheddable(before.violations):
        return _result(
            True,
            shed,
            base_p,
            before.violations,
            before.violations,
            model,
            flows_before,
            started,
            model.load_names,
            "" if not before.violations else "Only overvoltage: shedding load cannot clear it.",
        )
    tree, places, bus_of_load = _tree_of(model)
    load_tin = tree.tin[bus_of_load]
    infeasible_areas: list[int] = []
    current = before
    for _round in range(max_rounds):
        vm = np.nan_to_num(current.vm_pu, nan=1.0)
        vm_at_load = vm[bus_of_load]
        roots = places.places(current)
        if not len(roots):
            break
        areas = _merge(roots.tolist(), tree)
        # Widen areas that cannot be cleared by their own subtree.
        for _climb in range(max_climbs + 1):
            candidates = [_candidates(tree, root, load_tin, sheddable & ~shed) for root in areas]
            trial = shed.copy()
            for positions in candidates:
                trial[positions] = True
            result = run(trial)
            failing = (
                _areas_in_violation(result, areas, places, tree, model)
                if result.converged
                else set(range(len(areas)))
            )
            if not failing or _climb == max_climbs:
                break
            widened = [
                int(tree.parent[root]) if i in failing and tree.parent[root] >= 0 else root
                for i, root in enumerate(areas)
            ]
            areas = _merge(sorted(set(widened)), tree)
        infeasible = failing
        infeasible_areas += [areas[i] for i in infeasible]
        cover = _coverage(tree, roots, load_tin)
        orders = [
            _order_candidates(positions, priority, vm_at_load, base_p, cover) for positions in candidates
        ]
        lo = np.zeros(len(areas), dtype=np.int64)
        hi = np.array([len(o) for o in orders], dtype=np.int64)
        for i in infeasible:
            lo[i] = hi[i]  # shed everything sheddable there; it still does not clear
        # Bisection, all areas in each power flow, down to `1 / bisection_steps` of each order: the restore
        # below gives back the last shed first, so it takes back what the coarser stop sheds too much.
        gap = np.maximum(1, hi // bisection_steps)
        while np.any(hi - lo > gap):
            mid = np.where(hi - lo > gap, (lo + hi) // 2, hi)
            trial = shed.copy()
            for order, k in zip(orders, mid, strict=True):
                trial[order[:k]] = True
            result = run(trial)
            failing = (
                _areas_in_violation(result, areas, places, tree, model)
                if result.converged
                else set(range(len(areas)))
            )
            for i in range(len(areas)):
                if hi[i] - lo[i] > gap[i]:
                    if i in failing:
                        lo[i] = mid[i]
                    else:
                        hi[i] = mid[i]
        for order, k in zip(orders, hi, strict=True):
            shed[order[:k]] = True
        # Restore in batches: per area, the shed loads grouped by the transformer (or else the feeder below
        # the area's top) they hang from; in each group the last shed are given back first, and a bisection
        # per group, all groups in each power flow, finds how many can be given back.
        groups = [
            group
            for i, (root, order, k) in enumerate(zip(areas, orders, hi, strict=True))
            if i not in infeasible
            for group in _groups(tree, places, root, order[:k], bus_of_load)
        ]
        restored = None
        if groups:
            shed, restored = _restore(run, shed, groups, places, tree, model)
        current = restored if restored is not None else run(shed)
        if not current.converged or infeasible_areas:
            break
    if current.converged and shed.any():
        shed, current = _undo_overvoltage(run, shed, current, before, places, tree, load_tin, model)
    after = current if current.converged else run(shed)
    feasible = after.converged and not _sheddable(after.violations)
    message = ""
    if not feasible:
        names = ", ".join(str(model.bus_labels[a]) for a in infeasible_areas[:5])
        message = (
            "No plan clears every violation without shedding critical (priority 0) loads; critical "
            "loads were kept. "
            f"{len(_sheddable(after.violations))} violation(s) remain"
            + (f" below {names}" if names else "")
            + "."
        )
    elif after.violations:
        created = int(np.sum(_created_overvoltage(after, before, model)))
        message = (
            f"{created} bus(es) go above their voltage limit once their loads are shed and giving those "
            "loads back would break another limit; "
            if created
            else ""
        ) + "overvoltage remains: shedding load cannot clear it."
        message = message[0].upper() + message[1:]
    return _result(
        feasible,
        shed,
        base_p,
        before.violations,
        after.violations,
        model,
        flows_before,
        started,
        model.load_names,
        message,
        priority=priority,
    )


def _created_overvoltage(
    result: PowerFlowResult, before: PowerFlowResult, model: PowerFlowModel
) -> np.ndarray:
    """Buses above their upper limit in `result` that were not before shedding."""
    with np.errstate(invalid="ignore"):
        return (result.vm_pu > model.bus_max + 1e-9) & ~(before.vm_pu > model.bus_max + 1e-9)


def _undo_overvoltage(
    run: Any,
    shed: np.ndarray,
    current: PowerFlowResult,
    before: PowerFlowResult,
    places: _Places,
    tree: Tree,
    load_tin: np.ndarray,
    model: PowerFlowModel,
) -> tuple[np.ndarray, PowerFlowResult]:
    """Give back the shed loads below buses that shedding pushed above their upper voltage limit (a bus
    whose only loads are shed rises towards the slack's set point, which may be above a tight limit), as
    long as no undervoltage or overload comes back; at most two power flows."""
    for _attempt in range(2):
        created = np.flatnonzero(_created_overvoltage(current, before, model) & (tree.depth >= 0))
        if not len(created):
            break
        back = shed & (_coverage(tree, created, load_tin) > 0)
        if not back.any():
            break
        trial = shed & ~back
        result = run(trial)
        if not result.converged or len(np.setdiff1d(places.places(result), places.places(current))):
            break
        if np.sum(_created_overvoltage(result, before, model)) >= len(created):
            break
        shed, current = trial, result
    return shed, current


def _result(
    feasible: bool,
    shed: np.ndarray,
    base_p: np.ndarray,
    before: list[ViolationRow],
    after: list[ViolationRow],
    model: PowerFlowModel,
    flows_before: int,
    started: float,
    names: np.ndarray,
    message: str,
    *,
    converged: bool = True,
    priority: np.ndarray | None = None,
) -> SheddingResult:
    critical = int((shed & (priority == 0)).sum()) if priority is not None else 0
    return SheddingResult(
        feasible=feasible,
        shed=shed,
        shed_p_mw=base_p,
        violations_before=before,
        violations_after=after,
        power_flows=model.power_flows - flows_before,
        seconds=time.perf_counter() - started,
        converged=converged,
        message=message,
        load_names=names,
        critical_shed=critical,
    )


def _tree_of(model: PowerFlowModel) -> tuple[Tree, _Places, np.ndarray]:
    """The tree of the model's current topology, cached on the model (building it walks the whole graph)."""
    key = (
        model.net.line["in_service"].to_numpy(dtype=bool).tobytes(),
        model.net.trafo["in_service"].to_numpy(dtype=bool).tobytes(),
    )
    cache: dict[tuple[bytes, bytes], tuple[Tree, _Places, np.ndarray]] = model.__dict__.setdefault(
        "_shedding_trees", {}
    )
    if key not in cache:
        tree = Tree(model.net)
        bus_of_load = tree.lookup[model.net.load["bus"].to_numpy(dtype=np.int64)]
        cache.clear()
        cache[key] = (tree, _Places(model, tree), bus_of_load)
    return cache[key]


def _merge(roots: list[int], tree: Tree) -> list[int]:
    """Keep the roots that have no other root above them."""
    kept: list[int] = []
    for root in sorted(roots, key=lambda r: tree.depth[r]):
        if not any(tree.is_ancestor(k, root) for k in kept):
            kept.append(root)
    return kept


def _candidates(tree: Tree, root: int, load_tin: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    inside = (load_tin >= tree.tin[root]) & (load_tin < tree.tout[root]) & allowed
    return np.flatnonzero(inside)


def _areas_in_violation(
    result: PowerFlowResult, areas: list[int], places: _Places, tree: Tree, model: PowerFlowModel
) -> set[int]:
    """Indices of `areas` with a violation inside them, or above them (a violation upstream of an area)."""
    found = places.places(result)
    if not len(found):
        return set()
    roots = np.asarray(areas, dtype=np.int64)
    order = np.argsort(tree.tin[roots])
    starts = tree.tin[roots][order]
    tins = tree.tin[found]
    slot = np.searchsorted(starts, tins, side="right") - 1
    inside = (slot >= 0) & (tins < tree.tout[roots][order][np.clip(slot, 0, None)])
    failing = {int(order[k]) for k in slot[inside]}
    for place in found[~inside]:  # above every area: fails the areas below it
        below = (tree.tin[roots] >= tree.tin[place]) & (tree.tin[roots] < tree.tout[place])
        failing.update(int(i) for i in np.flatnonzero(below))
    return failing


def _groups(
    tree: Tree, places: _Places, root: int, shed_positions: np.ndarray, bus_of_load: np.ndarray
) -> list[tuple[int, np.ndarray]]:
    """Shed loads of an area grouped by the transformer below the area's top they hang from, else by the
    child subtree of the area's top (a feeder): (the group's top bus, its loads in shed order)."""
    if not len(shed_positions):
        return []
    buses = bus_of_load[shed_positions]
    tops = places.transformer_top[buses]
    inside = (tops >= 0) & (tree.tin[np.clip(tops, 0, None)] > tree.tin[root])
    inside &= tree.tin[np.clip(tops, 0, None)] < tree.tout[root]
    keys = np.where(inside, tops, -1)
    tins = tree.tin[buses]
    for child in tree.children[root]:
        feeder = (keys < 0) & (tins >= tree.tin[child]) & (tins < tree.tout[child])
        keys[feeder] = child
    return [(int(key), shed_positions[keys == key]) for key in np.unique(keys) if key >= 0]


def _restore(
    run: Any,
    shed: np.ndarray,
    groups: list[tuple[int, np.ndarray]],
    places: _Places,
    tree: Tree,
    model: PowerFlowModel,
) -> tuple[np.ndarray, PowerFlowResult | None]:
    """Give back as many of each group's last shed loads as keep the group (and everything above it)
    clear: a bisection per group on that count, all groups in each power flow. Groups sit in disjoint
    subtrees; a violation below a group's top fails that group, one above it fails every group below it. The
    counts found together are checked by one more power flow (returned with the mask); groups that fail there
    keep their loads shed."""
    tops = [top for top, _ in groups]
    lo = np.zeros(len(groups), dtype=np.int64)  # known to keep the group clear
    hi = np.array([len(g) + 1 for _, g in groups], dtype=np.int64)  # known (or assumed) not to

    def trial_of(counts: np.ndarray) -> np.ndarray:
        trial = shed.copy()
        for (_, loads), count in zip(groups, counts, strict=True):
            if count:
                trial[loads[len(loads) - count :]] = False
        return trial

    while np.any(hi - lo > 1):
        mid = np.where(hi - lo > 1, (lo + hi) // 2, lo)
        result = run(trial_of(mid))
        failing = (
            _areas_in_violation(result, tops, places, tree, model)
            if result.converged
            else set(range(len(tops)))
        )
        for i in np.flatnonzero(hi - lo > 1):
            if int(i) in failing:
                hi[i] = mid[i]
            else:
                lo[i] = mid[i]
    for _attempt in range(3):
        if not lo.any():
            return shed, None
        restored = trial_of(lo)
        result = run(restored)
        if not result.converged:
            return shed, None
        failing = _areas_in_violation(result, tops, places, tree, model)
        if not failing:
            return restored, result
        lo[sorted(failing)] = 0
    return shed, None


def greedy_plan(
    model: PowerFlowModel,
    *,
    priority: np.ndarray,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    batch: int = 1,
    max_power_flows: int = 100_000,
) -> SheddingResult:
    """Shed one load at a time until no undervoltage or overload is left; the reference `shedding_plan` is
    compared with.

    A step takes the first load in the plan's order (priority descending, then below more violation places,
    then lowest voltage, then largest; ties to the lowest load position) among the sheddable loads not yet
    shed below a violation place of the last power flow (among all of them when no place is reached).

    `batch=1`: one step per AC power flow, the order re-read from every power flow.
    `batch=k`: the next k loads of the order are shed together and checked by one power flow. While the
    violations remain, the k are kept and the order is re-read from that power flow (so it is re-read every
    k loads instead of every load). When a batch would clear them, it is undone and the greedy goes on from
    the state before it one load per power flow (`batch=1`) to the exact load at which it stops. So the
    stopping point, and the loads shed from the last re-read on, are those of the one-at-a-time greedy; what
    `batch` changes is only how often the voltages that order loads of equal priority and coverage are
    re-read. On an unchanged topology every power flow is the model's recycled run (pandapower's stored
    matrices, warm-started); a step reads only arrays, and the violation rows are built for the last power
    flow only.
    """
    started = time.perf_counter()
    flows_before = model.power_flows
    base_p = model.load_p * load_scale
    priority = np.asarray(priority, dtype=np.int64)
    sheddable = (priority > 0) & model.load_in_service & (base_p > 0)
    shed = np.zeros(len(base_p), dtype=bool)

    def run(mask: np.ndarray) -> PowerFlowResult:
        return model.run(shed=mask, load_scale=load_scale, sgen_scale=sgen_scale)

    before = run(shed)
    tree, places, bus_of_load = _tree_of(model)
    load_tin = tree.tin[bus_of_load]

    def next_loads(result: PowerFlowResult, count: int) -> np.ndarray:
        roots = places.places(result)
        allowed = sheddable & ~shed
        cover = _coverage(tree, roots, load_tin)
        pool = allowed & (cover > 0)
        if not pool.any():
            pool = allowed
        if not pool.any():
            return np.zeros(0, dtype=np.int64)
        vm_at_load = np.nan_to_num(result.vm_pu, nan=1.0)[bus_of_load]
        if count == 1:
            return np.array([_first_in_order(pool, priority, vm_at_load, base_p, cover)], dtype=np.int64)
        return _order_candidates(np.flatnonzero(pool), priority, vm_at_load, base_p, cover)[:count]

    current = before
    step = max(1, int(batch))
    while model.sheddable_breach(current) and model.power_flows - flows_before < max_power_flows:
        chosen = next_loads(current, step)
        if not len(chosen):
            break
        shed[chosen] = True
        trial = run(shed)
        if step > 1 and not (trial.converged and model.sheddable_breach(trial)):
            shed[chosen] = False  # this batch ends it: find the exact stop one load at a time
            step = 1  # `current` is still the power flow before the batch
            continue
        current = trial
    feasible = current.converged and not model.sheddable_breach(current)
    return _result(
        feasible,
        shed,
        base_p,
        before.violations,
        current.violations,
        model,
        flows_before,
        started,
        model.load_names,
        "" if feasible else "No plan without critical loads.",
        priority=priority,
    )


def _first_in_order(
    pool: np.ndarray, priority: np.ndarray, vm_at_load: np.ndarray, p_mw: np.ndarray, cover: np.ndarray
) -> int:
    """The first load of `_order_candidates(np.flatnonzero(pool), ...)`, by narrowing key after key."""
    keep = pool.copy()
    for key in (priority, cover, -vm_at_load, p_mw):  # each: the largest wins
        best = key[keep].max()
        keep &= key == best
    return int(np.flatnonzero(keep)[0])
