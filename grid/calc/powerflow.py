"""AC power flow on a built pandapower net (pandapower `runpp`, no solver of our own) and its limit checks.

A `PowerFlowModel` wraps one net built for one topology; callers set load and generation arrays per step and
the model warm-starts each run from the previous results (`init="results"`). Limits: each bus's own
`min_vm_pu`/`max_vm_pu` where given, else the network's band; lines and transformers at their
`max_loading_percent`, else 100 %.
"""

import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# Below this many buses the numba JIT (seconds per process) costs more than it saves. With lightsim2grid
# installed (its C++ Newton solver, used by pandapower's runpp) numba is not used at all.
NUMBA_MIN_BUSES = 2000
# Load/generation-only changes on an unchanged topology reuse pandapower's internal matrices (`recycle`).
RECYCLE = {"bus_pq": True, "trafo": False, "gen": False}


def _lightsim2grid_available() -> bool:
    try:
        import lightsim2grid  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency; kept optional for pandapower's own solver
        return False
    return True


class UnknownElement(ValueError):
    """An element named for a contingency or priority is not in the network."""


@dataclass(frozen=True)
class ViolationRow:
    element: str
    kind: str
    value: float
    limit: float

    def as_dict(self) -> dict[str, Any]:
        return {"element": self.element, "kind": self.kind, "value": self.value, "limit": self.limit}


@dataclass
class PowerFlowResult:
    converged: bool
    seconds: float
    vm_pu: np.ndarray = field(repr=False)
    line_loading_percent: np.ndarray = field(repr=False)
    trafo_loading_percent: np.ndarray = field(repr=False)
    # The rows are built on first use: a search that only needs the arrays (shedding) skips them.
    check: "Callable[[PowerFlowResult], list[ViolationRow]] | None" = field(
        default=None, repr=False, compare=False
    )
    _violations: list[ViolationRow] | None = field(default=None, repr=False)

    @property
    def violations(self) -> list[ViolationRow]:
        if self._violations is None:
            self._violations = self.check(self) if self.check is not None else []
        return self._violations

    @violations.setter
    def violations(self, rows: list[ViolationRow]) -> None:
        self._violations = rows

    @property
    def min_vm_pu(self) -> float | None:
        finite = self.vm_pu[np.isfinite(self.vm_pu)]
        return float(finite.min()) if finite.size else None

    @property
    def max_vm_pu(self) -> float | None:
        finite = self.vm_pu[np.isfinite(self.vm_pu)]
        return float(finite.max()) if finite.size else None

    @property
    def max_line_loading_percent(self) -> float | None:
        finite = self.line_loading_percent[np.isfinite(self.line_loading_percent)]
        return float(finite.max()) if finite.size else None


def _labels(kind: str, names: Iterable[Any], indices: Iterable[Any]) -> np.ndarray:
    return np.array(
        [
            f"{kind}:{name}" if name not in (None, "") else f"{kind}:{index}"
            for name, index in zip(names, indices, strict=True)
        ],
        dtype=object,
    )


def _fixed_branches(
    lookups: Any, solved: npt.NDArray[np.bool_], kind: str, frame: Any
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """The branches of `kind` outside the solved case (all when none was solved) and their loading (%)."""
    fixed = np.ones(len(frame), dtype=bool)
    if kind in lookups:
        f, t = lookups[kind]
        fixed = ~solved[f:t]
    loading: npt.NDArray[np.float64] = frame["loading_percent"].to_numpy(dtype=float)[fixed]
    return fixed, loading


class PowerFlowModel:
    """One pandapower net (one topology), run step after step with new loads and generation."""

    def __init__(self, net: Any, *, min_vm_pu: float = 0.95, max_vm_pu: float = 1.05) -> None:
        self.net = net
        self.bus_labels = _labels("bus", net.bus["name"], net.bus.index)
        self.line_labels = _labels("line", net.line["name"], net.line.index)
        self.trafo_labels = _labels("trafo", net.trafo["name"], net.trafo.index)
        self.bus_min = (
            net.bus["min_vm_pu"].fillna(min_vm_pu).to_numpy(dtype=float)
            if "min_vm_pu" in net.bus
            else np.full(len(net.bus), min_vm_pu)
        )
        self.bus_max = (
            net.bus["max_vm_pu"].fillna(max_vm_pu).to_numpy(dtype=float)
            if "max_vm_pu" in net.bus
            else np.full(len(net.bus), max_vm_pu)
        )
        self.line_max = (
            net.line["max_loading_percent"].fillna(100.0).to_numpy(dtype=float)
            if "max_loading_percent" in net.line
            else np.full(len(net.line), 100.0)
        )
        self.trafo_max = (
            net.trafo["max_loading_percent"].fillna(100.0).to_numpy(dtype=float)
            if "max_loading_percent" in net.trafo
            else np.full(len(net.trafo), 100.0)
        )
        self.load_p = net.load["p_mw"].to_numpy(dtype=float).copy()
        self.load_q = net.load["q_mvar"].to_numpy(dtype=float).copy()
        self.load_in_service = net.load["in_service"].to_numpy(dtype=bool).copy()
        self.sgen_p = net.sgen["p_mw"].to_numpy(dtype=float).copy()
        self.sgen_q = net.sgen["q_mvar"].to_numpy(dtype=float).copy()
        self.line_in_service = net.line["in_service"].to_numpy(dtype=bool).copy()
        self.trafo_in_service = net.trafo["in_service"].to_numpy(dtype=bool).copy()
        self.line_position = {label: i for i, label in enumerate(self.line_labels)}
        self.trafo_position = {label: i for i, label in enumerate(self.trafo_labels)}
        self.load_names = np.array(
            [
                str(n) if n not in (None, "") else str(i)
                for n, i in zip(net.load["name"], net.load.index, strict=True)
            ],
            dtype=object,
        )
        self.lightsim2grid = _lightsim2grid_available()
        self.numba = not self.lightsim2grid and len(net.bus) >= NUMBA_MIN_BUSES
        self.bus_position = {int(b): i for i, b in enumerate(net.bus.index)}
        self.line_buses = self._positions(net.line, "from_bus", "to_bus")
        self.trafo_buses = self._positions(net.trafo, "hv_bus", "lv_bus")
        self.load_bus = np.array([self.bus_position[int(b)] for b in net.load["bus"]], dtype=np.int64)
        self.sgen_bus = np.array([self.bus_position[int(b)] for b in net.sgen["bus"]], dtype=np.int64)
        self._warm = False
        self._topology: bytes | None = None  # line+trafo in-service of the last converged full run
        self.power_flows = 0
        self.recycled = 0

    def _positions(self, frame: Any, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([self.bus_position[int(v)] for v in frame[a]], dtype=np.int64),
            np.array([self.bus_position[int(v)] for v in frame[b]], dtype=np.int64),
        )

    def outage_mask(self, elements: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Line and trafo in-service masks with `elements` (`line:NAME`, `trafo:NAME`) taken out."""
        lines = self.line_in_service.copy()
        trafos = self.trafo_in_service.copy()
        for element in elements:
            if element in self.line_position:
                lines[self.line_position[element]] = False
            elif element in self.trafo_position:
                trafos[self.trafo_position[element]] = False
            else:
                raise UnknownElement(f"{element}: no such line or transformer (use line:NAME or trafo:NAME)")
        return lines, trafos

    def run(
        self,
        *,
        load_p: np.ndarray | None = None,
        load_q: np.ndarray | None = None,
        sgen_p: np.ndarray | None = None,
        sgen_q: np.ndarray | None = None,
        load_scale: float = 1.0,
        sgen_scale: float = 1.0,
        shed: np.ndarray | None = None,
        line_in_service: np.ndarray | None = None,
        trafo_in_service: np.ndarray | None = None,
    ) -> PowerFlowResult:
        """Run one AC power flow: loads and generation (MW/Mvar, defaults the stored values) times the scales,
        shed loads (boolean mask) off, lines/trafos per the masks (defaults: as built). Never raises on
        divergence: the result says `converged=False`."""
        import pandapower as pp

        net = self.net
        started = time.perf_counter()
        p = (self.load_p if load_p is None else load_p) * load_scale
        q = (self.load_q if load_q is None else load_q) * load_scale
        if shed is not None:  # shed loads draw nothing (in_service stays put so the internals can be reused)
            p = np.where(shed, 0.0, p)
            q = np.where(shed, 0.0, q)
        net.load["p_mw"] = p
        net.load["q_mvar"] = q
        if len(net.sgen):
            net.sgen["p_mw"] = (self.sgen_p if sgen_p is None else sgen_p) * sgen_scale
            net.sgen["q_mvar"] = (self.sgen_q if sgen_q is None else sgen_q) * sgen_scale
        lines = self.line_in_service if line_in_service is None else line_in_service
        trafos = self.trafo_in_service if trafo_in_service is None else trafo_in_service
        topology = lines.tobytes() + trafos.tobytes()
        converged = False
        fast: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if self._warm and topology == self._topology:
            # Same topology as the last converged run: only loads/generation changed; pandapower reuses its
            # internal matrices, starts from the last voltages, and only the results we check are read back.
            fast = self._recycled()
            converged = fast is not None
        if not converged:
            net.load["in_service"] = self.load_in_service
            net.line["in_service"] = lines
            net.trafo["in_service"] = trafos
            # Warm start even across a topology change (N-1); buses an outage cut off have no result (NaN),
            # and a NaN start makes the Jacobian singular: start those from 1 pu.
            if self._warm and net.res_bus["vm_pu"].isna().any():
                net.res_bus["vm_pu"] = net.res_bus["vm_pu"].fillna(1.0)
                net.res_bus["va_degree"] = net.res_bus["va_degree"].fillna(0.0)
            converged = self._runpp(pp, init="results" if self._warm else "auto")
            if not converged and self._warm:
                converged = self._runpp(pp, init="auto")
            self._topology = topology if converged else None
            if converged:
                self._remember_internals()
        self._warm = converged
        seconds = time.perf_counter() - started
        if fast is not None:
            return PowerFlowResult(True, seconds, *fast, check=self.violations)
        if not converged:
            nan = np.full
            return PowerFlowResult(
                False,
                seconds,
                nan(len(net.bus), np.nan),
                nan(len(net.line), np.nan),
                nan(len(net.trafo), np.nan),
            )
        result = PowerFlowResult(
            True,
            seconds,
            net.res_bus["vm_pu"].to_numpy(dtype=float).copy(),
            net.res_line["loading_percent"].to_numpy(dtype=float).copy(),
            net.res_trafo["loading_percent"].to_numpy(dtype=float).copy() if len(net.trafo) else np.zeros(0),
            check=self.violations,
        )
        return result

    def _recycled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """A Newton-Raphson run on pandapower's stored internal case with the loads/generation of the net's
        tables (its `recycle` path, bus P/Q only), reading back only bus voltages and line/transformer loading
        (pandapower's own formulas, `trafo_loading="current"`) instead of every result table. None when it
        does not converge or the internals are missing (the caller then runs `runpp`)."""
        from pandapower.pd2ppc import _calc_pq_elements_and_add_on_ppc, _ppc2ppci
        from pandapower.pf.run_newton_raphson_pf import _run_newton_raphson_pf
        from pandapower.pypower.idx_bus import VM
        from pandapower.results import _copy_results_ppci_to_ppc
        from pandapower.results_branch import _get_branch_flows

        net = self.net
        self.power_flows += 1
        self.recycled += 1
        try:
            options = net["_options"]
            if options.get("trafo_loading", "current") != "current" or options.get("algorithm") != "nr":
                return None
            internal = net["_ppc"]["internal"]
            ppc = net["_ppc"]
            _calc_pq_elements_and_add_on_ppc(net, ppc)
            ppci = {k: internal[k] for k in ("bus", "gen", "branch", "baseMVA")}
            ppci["internal"] = internal
            options["init_vm_pu"] = options["init_va_degree"] = "results"
            options["recycle"] = RECYCLE
            ppci = _ppc2ppci(ppc, net, ppci=ppci)
            ppci["internal"] = internal
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                solved = _run_newton_raphson_pf(ppci, options)
            if not solved["success"]:
                return None
            ppc = _copy_results_ppci_to_ppc(solved, ppc, options["mode"])
            net["_ppc"] = ppc
        except Exception:  # internals of another pandapower version: fall back to runpp
            return None
        lookups = net._pd2ppc_lookups
        vm = ppc["bus"][lookups["bus"][net.bus.index.to_numpy()], VM].real.astype(float)
        vm[self._isolated] = np.nan
        i_ft, _ = _get_branch_flows(ppc)
        line = np.zeros(len(net.line))
        if "line" in lookups["branch"]:
            f, t = lookups["branch"]["line"]
            line = np.max(i_ft[f:t], axis=1) / self._line_i_max * 100
        trafo = np.zeros(len(net.trafo))
        if "trafo" in lookups["branch"]:
            f, t = lookups["branch"]["trafo"]
            trafo = np.max(i_ft[f:t] * self._trafo_factor, axis=1)
        # Branches outside the solved case (out of service, or at a bus cut off) read as in the full run.
        line[self._line_fixed] = self._line_fixed_value
        trafo[self._trafo_fixed] = self._trafo_fixed_value
        return vm, line, trafo

    def _remember_internals(self) -> None:
        """After a converged full run: what the recycled runs of the same topology reuse."""
        net = self.net
        self._isolated = net.res_bus["vm_pu"].isna().to_numpy()
        self._line_i_max = (
            net.line["max_i_ka"].to_numpy(dtype=float)
            * net.line["df"].to_numpy(dtype=float)
            * net.line["parallel"].to_numpy(dtype=float)
        )
        lookups = net._pd2ppc_lookups["branch"]
        solved = np.asarray(net["_ppc"]["internal"]["branch_is"], dtype=bool)
        self._line_fixed, self._line_fixed_value = _fixed_branches(lookups, solved, "line", net.res_line)
        self._trafo_fixed, self._trafo_fixed_value = _fixed_branches(lookups, solved, "trafo", net.res_trafo)
        if len(net.trafo):
            vns = np.vstack([net.trafo["vn_hv_kv"].to_numpy(float), net.trafo["vn_lv_kv"].to_numpy(float)]).T
            scale = net.trafo["sn_mva"].to_numpy(float) * net.trafo["parallel"].to_numpy(float)
            scale = scale * net.trafo["df"].to_numpy(float)
            self._trafo_factor = vns * np.sqrt(3) / scale[:, np.newaxis] * 100.0
        else:
            self._trafo_factor = np.zeros((0, 2))

    def results_snapshot(self) -> Any:
        """The bus results to warm-start later runs from (e.g. the intact case of an N-1 study)."""
        return self.net.res_bus[["vm_pu", "va_degree"]].copy()

    def warm_from(self, snapshot: Any) -> None:
        """Start the next run from `snapshot` instead of the last run's results."""
        self.net.res_bus.loc[:, ["vm_pu", "va_degree"]] = snapshot.to_numpy()
        self._warm = True

    def _runpp(self, pp: Any, *, init: str, recycle: bool = False) -> bool:
        self.power_flows += 1
        options: dict[str, Any] = {"recycle": RECYCLE} if recycle else {}
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")  # a diverging step warns before it raises; the result says so
                pp.runpp(
                    self.net,
                    init=init,
                    numba=self.numba,
                    lightsim2grid=self.lightsim2grid,
                    max_iteration=30,
                    **options,
                )
        except pp.LoadflowNotConverged:
            return False
        except Exception as error:  # pandapower raises plain errors when, e.g., no slack is connected
            if "converge" in str(error).lower() or init != "auto" or recycle:
                return False
            raise
        return bool(self.net.converged)

    def sheddable_breach(self, result: PowerFlowResult) -> bool:
        """Whether `result` breaks a limit that shedding load can relieve (undervoltage or overload): the
        rows of `violations` of those kinds, without building them."""
        with np.errstate(invalid="ignore"):
            return bool(
                np.any(result.vm_pu < self.bus_min - 1e-9)
                or np.any(result.line_loading_percent > self.line_max + 1e-9)
                or np.any(result.trafo_loading_percent > self.trafo_max + 1e-9)
            )

    def violations(self, result: PowerFlowResult) -> list[ViolationRow]:
        """Every limit broken in `result`, worst first per kind (buses, then lines, then transformers)."""
        rows: list[ViolationRow] = []
        vm = result.vm_pu
        with np.errstate(invalid="ignore"):
            for position in np.flatnonzero(vm < self.bus_min - 1e-9):
                rows.append(
                    ViolationRow(
                        self.bus_labels[position],
                        "undervoltage",
                        float(vm[position]),
                        float(self.bus_min[position]),
                    )
                )
            for position in np.flatnonzero(vm > self.bus_max + 1e-9):
                rows.append(
                    ViolationRow(
                        self.bus_labels[position],
                        "overvoltage",
                        float(vm[position]),
                        float(self.bus_max[position]),
                    )
                )
            for loading, limit, labels in (
                (result.line_loading_percent, self.line_max, self.line_labels),
                (result.trafo_loading_percent, self.trafo_max, self.trafo_labels),
            ):
                for position in np.flatnonzero(loading > limit + 1e-9):
                    rows.append(
                        ViolationRow(
                            labels[position],
                            "overload",
                            float(loading[position]) / 100,
                            float(limit[position]) / 100,
                        )
                    )
        return rows
