"""Load-shedding plans: clear every violation shedding the least load, lowest priority first, never
priority 0.

The plan (`shedding_plan`):
1. One power flow finds the violations. Each is placed in the radial tree that a breadth-first search from
   the slack draws over the closed topology: an overloaded line/transformer at its downstream bus, an
   undervoltage at the topmost undervoltage bus above it. Violations whose places nest form one *area*; the
   candidates of an area are its subtree's loads, except critical ones (priority 0), ordered by priority
   (higher numbers first), then by voltage (lowest first: shedding there relieves most), then by size.
2. One power flow sheds every candidate: an area still in violation climbs one bus up (a wider subtree),
   up to `max_climbs` times; an area that still cannot be cleared is infeasible without critical loads.
3. Bisection over each area's candidate order, all areas at once in each power flow: the shortest prefix
   that clears the area, O(log n) power flows in all.
4. Restore: the shed loads of each area grouped by the feeder (child subtree of the area's top bus) or
   transformer they hang from; one group per area per power flow is given back if the area stays clear.
5. A last power flow checks the whole net; violations it finds outside the areas start another round.
Overvoltage cannot be cleared by shedding load, so it is reported and left alone.

`greedy_plan` sheds one load per power flow in the same order, for comparison in the benchmark.
"""

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    """A breadth-first spanning tree of the closed, in-service topology from the slack buses."""

    def __init__(self, net: Any) -> None:
        import pandapower.topology as top

        graph = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
        bus_index = net.bus.index.to_numpy()
        self.position = {int(b): i for i, b in enumerate(bus_index)}
        n = len(bus_index)
        self.parent = np.full(n, -1, dtype=np.int64)
        self.depth = np.full(n, -1, dtype=np.int64)
        slack = [int(b) for b in net.ext_grid.loc[net.ext_grid["in_service"], "bus"]]
        if len(net.gen) and "slack" in net.gen:
            slack += [int(b) for b in net.gen.loc[net.gen["slack"] & net.gen["in_service"], "bus"]]
        order: list[int] = []
        children: list[list[int]] = [[] for _ in range(n)]
        queue = deque()
        for bus in slack:
            position = self.position[bus]
            if self.depth[position] < 0:
                self.depth[position] = 0
                queue.append(bus)
        while queue:
            bus = queue.popleft()
            position = self.position[bus]
            order.append(position)
            for neighbour in graph.neighbors(bus):
                other = self.position[int(neighbour)]
                if self.depth[other] < 0:
                    self.depth[other] = self.depth[position] + 1
                    self.parent[other] = position
                    children[position].append(other)
                    queue.append(int(neighbour))
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
        return self.tin[upper] <= self.tin[lower] < self.tout[upper]


class _Places:
    """Where violations sit in the tree, as arrays: overloaded branches at their downstream bus, undervoltage
    at the topmost undervoltage bus above it."""

    def __init__(self, model: PowerFlowModel, tree: Tree) -> None:
        net = model.net
        self.tree = tree
        self.model = model
        position = tree.position
        downstream = []
        for frame, a, b in ((net.line, "from_bus", "to_bus"), (net.trafo, "hv_bus", "lv_bus")):
            x = np.array([position[int(v)] for v in frame[a].to_numpy()], dtype=np.int64)
            y = np.array([position[int(v)] for v in frame[b].to_numpy()], dtype=np.int64)
            deeper = np.where(tree.depth[y] >= tree.depth[x], y, x)
            reached = (tree.depth[x] >= 0) | (tree.depth[y] >= 0)
            downstream.append(np.where(reached, deeper, -1))
        self.line_down, self.trafo_down = downstream
        order = np.argsort(tree.depth, kind="stable")
        self.levels = (
            [order[tree.depth[order] == d] for d in range(1, int(tree.depth.max()) + 1)] if len(order) else []
        )

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
    return np.cumsum(delta)[load_tin]


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
    restore_rounds: int = 3,
    max_rounds: int = 3,
) -> SheddingResult:
    """The plan for one operating point; `priority` is aligned with the net's loads (0 = never shed)."""
    started = time.perf_counter()
    flows_before = model.power_flows
    inputs = {
        "load_p": load_p,
        "load_q": load_q,
        "sgen_p": sgen_p,
        "sgen_q": sgen_q,
        "load_scale": load_scale,
        "sgen_scale": sgen_scale,
        "line_in_service": line_in_service,
    }
    base_p = (model.load_p if load_p is None else load_p) * load_scale
    n_loads = len(base_p)
    priority = np.asarray(priority, dtype=np.int64)
    sheddable = (priority > 0) & model.load_in_service & (base_p > 0)
    shed = np.zeros(n_loads, dtype=bool)

    def run(mask: np.ndarray) -> PowerFlowResult:
        return model.run(shed=mask, **inputs)

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
        # Bisection, all areas in each power flow.
        while np.any(hi - lo > 1):
            mid = np.where(hi - lo > 1, (lo + hi) // 2, hi)
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
                if hi[i] - lo[i] > 1:
                    if i in failing:
                        lo[i] = mid[i]
                    else:
                        hi[i] = mid[i]
        for order, k in zip(orders, hi, strict=True):
            shed[order[:k]] = True
        # Restore in batches: per area, the shed loads grouped by the feeder/transformer below the area's top.
        groups = [
            _groups(tree, root, order[:k], bus_of_load, base_p) if i not in infeasible else []
            for i, (root, order, k) in enumerate(zip(areas, orders, hi, strict=True))
        ]
        for step in range(restore_rounds):
            tries = {i: g[step] for i, g in enumerate(groups) if step < len(g)}
            if not tries:
                break
            trial = shed.copy()
            for group in tries.values():
                trial[group] = False
            result = run(trial)
            failing = (
                _areas_in_violation(result, areas, places, tree, model)
                if result.converged
                else set(range(len(areas)))
            )
            for i, group in tries.items():
                if i not in failing:
                    shed[group] = False
        current = run(shed)
        if not current.converged or infeasible_areas:
            break
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
        message = "Overvoltage remains: shedding load cannot clear it."
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


def _result(
    feasible,
    shed,
    base_p,
    before,
    after,
    model,
    flows_before,
    started,
    names,
    message,
    *,
    converged=True,
    priority=None,
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
    cache = model.__dict__.setdefault("_shedding_trees", {})
    if key not in cache:
        tree = Tree(model.net)
        bus_of_load = np.array(
            [tree.position[int(b)] for b in model.net.load["bus"].to_numpy()], dtype=np.int64
        )
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
    tree: Tree, root: int, shed_positions: np.ndarray, bus_of_load: np.ndarray, p: np.ndarray
) -> list[np.ndarray]:
    """Shed loads of an area grouped by the child subtree of the area's top they sit in, smallest MW first."""
    if not len(shed_positions):
        return []
    tins = tree.tin[bus_of_load[shed_positions]]
    keys = np.full(len(shed_positions), -1, dtype=np.int64)
    for child in tree.children[root]:
        inside = (tins >= tree.tin[child]) & (tins < tree.tout[child])
        keys[inside] = child
    groups = [shed_positions[keys == key] for key in np.unique(keys)]
    if len(groups) == 1:  # one feeder only: restore its later half (the last shed) as one batch
        return [groups[0][len(groups[0]) // 2 :]] if len(groups[0]) > 1 else []
    return sorted(groups, key=lambda g: float(p[g].sum()))


def greedy_plan(
    model: PowerFlowModel,
    *,
    priority: np.ndarray,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    max_power_flows: int = 100_000,
) -> SheddingResult:
    """Shed one load per power flow: the next in priority order (highest number, lowest voltage, largest)
    among those below a violation, until none is left; for comparison with `shedding_plan`."""
    started = time.perf_counter()
    flows_before = model.power_flows
    base_p = model.load_p * load_scale
    priority = np.asarray(priority, dtype=np.int64)
    sheddable = (priority > 0) & model.load_in_service & (base_p > 0)
    shed = np.zeros(len(base_p), dtype=bool)
    before = model.run(shed=shed, load_scale=load_scale, sgen_scale=sgen_scale)
    tree, places, bus_of_load = _tree_of(model)
    load_tin = tree.tin[bus_of_load]
    current = before
    while _sheddable(current.violations) and model.power_flows - flows_before < max_power_flows:
        vm = np.nan_to_num(current.vm_pu, nan=1.0)
        roots = places.places(current).tolist()
        allowed = sheddable & ~shed
        pool = np.unique(
            np.concatenate(
                [_candidates(tree, r, load_tin, allowed) for r in roots] or [np.zeros(0, dtype=np.int64)]
            )
        )
        if not len(pool):
            pool = np.flatnonzero(allowed)
            if not len(pool):
                break
        chosen = _order_candidates(
            pool,
            priority,
            vm[bus_of_load],
            base_p,
            _coverage(tree, np.asarray(roots, dtype=np.int64), load_tin),
        )[0]
        shed[chosen] = True
        current = model.run(shed=shed, load_scale=load_scale, sgen_scale=sgen_scale)
    feasible = current.converged and not _sheddable(current.violations)
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
