"""Day-ahead schedules for a battery fleet behind customers' meters.

Each unit ``u`` has, per interval ``t`` of ``dt_h`` hours, a charge and a discharge power (kW, at the
battery's terminals) and a state of charge at the END of the interval (kWh). Its meter's net flow is ``load
- pv + charge - discharge`` (kW, positive = import). The fleet minimises

    sum_t dt * (import_price * import - export_price * export + degradation * (charge + discharge))

subject to the state-of-charge dynamics with charge/discharge efficiencies, power and state-of-charge
limits, a terminal state of charge at least the initial one, and, per feeder and interval, the units' summed
net flow within ``[-export_limit, import_limit]``.

The problem separates exactly by feeder: units on feeders without a limit, or whose limit does not bind when
every unit follows its own optimum, are solved alone (many small LPs, in blocks); each feeder whose limit
binds is solved as one joint LP of its units. So the fleet's schedule is the joint optimum (not an
approximation), while the solve grows linearly with the fleet (feeders are independent) and runs in parallel
worker processes.

The LP never charges and discharges at once while prices are positive. Intervals where a price is negative
(or the export price exceeds the import price) get binaries (charge xor discharge, import xor export),
solved as a MILP with a time limit and the LP solution, made exclusive, as the incumbent.

The fast path builds the LPs with numpy straight into HiGHS (highspy); ``joint_pulp_solve`` builds the same
model in PuLP (the reference the tests compare with, and the modelling layer of the MILP).
``schedule_violations`` checks a schedule independently of any solver."""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import highspy

# Slack kept inside the feeder limits so that solver tolerances never put a feeder over its limit.
LIMIT_MARGIN_KW = 1e-6
FEASIBILITY_TOLERANCE = 1e-5
UNITS_PER_BLOCK = 40
MIP_RELATIVE_GAP = 5e-4


class StorageProblemError(ValueError):
    """The input is inconsistent (names the unit or feeder and the field)."""

    code = "STORAGE_PROBLEM_INVALID"

    def __init__(self, message: str, *, unit: str | None = None, field: str | None = None):
        super().__init__(message)
        self.unit = unit
        self.field = field


class ScheduleInfeasible(ValueError):
    """No schedule meets the limits (names the feeder and, when known, the interval)."""

    code = "SCHEDULE_INFEASIBLE"


@dataclass(frozen=True)
class Fleet:
    """Battery parameters, one array entry per unit."""

    units: Sequence[str]
    feeders: Sequence[str]
    capacity_kwh: np.ndarray
    power_kw: np.ndarray
    efficiency_charge: np.ndarray
    efficiency_discharge: np.ndarray
    soc_min_kwh: np.ndarray
    soc_max_kwh: np.ndarray
    soc_initial_kwh: np.ndarray
    degradation_cost_per_kwh: np.ndarray
    # Minimum charge/discharge power when on (|p| >= min_power_kw or 0); None or 0 = no such rule.
    min_power_kw: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.units)

    @property
    def min_power(self) -> np.ndarray:
        return np.zeros(len(self.units)) if self.min_power_kw is None else np.asarray(self.min_power_kw)

    def subset(self, index: np.ndarray) -> Fleet:
        return Fleet(
            units=[self.units[i] for i in index],
            feeders=[self.feeders[i] for i in index],
            **{name: getattr(self, name)[index] for name in FLEET_ARRAY_FIELDS},
            min_power_kw=None if self.min_power_kw is None else np.asarray(self.min_power_kw)[index],
        )


FLEET_ARRAY_FIELDS = (
    "capacity_kwh",
    "power_kw",
    "efficiency_charge",
    "efficiency_discharge",
    "soc_min_kwh",
    "soc_max_kwh",
    "soc_initial_kwh",
    "degradation_cost_per_kwh",
)


@dataclass(frozen=True)
class StorageProblem:
    """One day-ahead problem: a fleet, common prices, local PV and load, feeder limits."""

    fleet: Fleet
    dt_h: float
    import_price: np.ndarray  # (T,) per kWh
    export_price: np.ndarray  # (T,) per kWh
    pv_kw: np.ndarray  # (n, T)
    load_kw: np.ndarray  # (n, T)
    # feeder -> (import limit, export limit), kW
    feeder_limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    interval_starts: Sequence[str] | None = None  # labels for messages

    def interval_label(self, t: int) -> str:
        return str(self.interval_starts[t]) if self.interval_starts is not None else str(t)

    @property
    def intervals(self) -> int:
        return len(self.import_price)

    def binary_intervals(self) -> np.ndarray:
        """Intervals where the LP could charge and discharge (or import and export) at once to profit."""
        return (self.import_price < 0) | (self.export_price < 0) | (self.export_price > self.import_price)

    def subproblem(self, index: np.ndarray) -> StorageProblem:
        return StorageProblem(
            fleet=self.fleet.subset(index),
            dt_h=self.dt_h,
            import_price=self.import_price,
            export_price=self.export_price,
            pv_kw=self.pv_kw[index],
            load_kw=self.load_kw[index],
            feeder_limits=self.feeder_limits,
            interval_starts=self.interval_starts,
        )


@dataclass
class Schedule:
    charge_kw: np.ndarray  # (n, T)
    discharge_kw: np.ndarray  # (n, T)
    soc_kwh: np.ndarray  # (n, T), at the end of each interval
    objective: float
    status: str  # "optimal" | "time_limit" (MILP stopped with a feasible schedule)
    seconds: float = 0.0
    feeders_coupled: list[str] = field(default_factory=list)
    solver_cpu_seconds: float = 0.0  # CPU time of the solving processes, summed


def problem_validate(problem: StorageProblem) -> None:
    """Raise StorageProblemError naming the first unit and field that make the problem meaningless."""
    fleet = problem.fleet
    n, steps = len(fleet), problem.intervals
    if steps == 0:
        raise StorageProblemError("prices: no intervals")
    if problem.dt_h <= 0:
        raise StorageProblemError("prices: intervals must have a positive length")
    for name, shape in (("pv_kw", (n, steps)), ("load_kw", (n, steps))):
        if getattr(problem, name).shape != shape:
            raise StorageProblemError(f"{name}: expected shape {shape}")
    checks = (
        ("capacity_kwh", fleet.capacity_kwh > 0, "must be positive"),
        ("power_kw", fleet.power_kw > 0, "must be positive"),
        (
            "efficiency_charge",
            (fleet.efficiency_charge > 0) & (fleet.efficiency_charge <= 1),
            "must be in (0, 1]",
        ),
        (
            "efficiency_discharge",
            (fleet.efficiency_discharge > 0) & (fleet.efficiency_discharge <= 1),
            "must be in (0, 1]",
        ),
        ("soc_min_kwh", fleet.soc_min_kwh >= 0, "must not be negative"),
        ("soc_max_kwh", fleet.soc_max_kwh <= fleet.capacity_kwh, "must not exceed capacity_kwh"),
        ("soc_max_kwh", fleet.soc_max_kwh >= fleet.soc_min_kwh, "must not be below soc_min_kwh"),
        (
            "soc_initial_kwh",
            (fleet.soc_initial_kwh >= fleet.soc_min_kwh) & (fleet.soc_initial_kwh <= fleet.soc_max_kwh),
            "must be within [soc_min_kwh, soc_max_kwh]",
        ),
        ("degradation_cost_per_kwh", fleet.degradation_cost_per_kwh >= 0, "must not be negative"),
        (
            "min_power_kw",
            (fleet.min_power >= 0) & (fleet.min_power <= fleet.power_kw),
            "must be within [0, power_kw]",
        ),
    )
    for name, ok, message in checks:
        bad = np.flatnonzero(~ok)
        if bad.size:
            unit = fleet.units[bad[0]]
            raise StorageProblemError(f"unit {unit}: {name} {message}", unit=unit, field=name)
    for name in ("pv_kw", "load_kw"):
        values = getattr(problem, name)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            unit = fleet.units[int(np.argwhere(~np.isfinite(values) | (values < 0))[0][0])]
            raise StorageProblemError(f"unit {unit}: {name} must be finite and not negative")
    for feeder, (imp, exp) in problem.feeder_limits.items():
        if imp < 0 or exp < 0:
            raise StorageProblemError(f"feeder {feeder}: limits must not be negative")


# ---------------------------------------------------------------------------------------------------------
# The LP, built with numpy straight into HiGHS
# ---------------------------------------------------------------------------------------------------------
# Variables per unit, in this order, T each: charge, discharge, soc, import, export.
NVAR = 5


class LpArrays(TypedDict):
    """An LP in HiGHS's column-wise form, for ``n`` units of ``steps`` intervals."""

    cost: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    row_lower: npt.NDArray[np.float64]
    row_upper: npt.NDArray[np.float64]
    starts: npt.NDArray[np.int64]
    index: npt.NDArray[np.int32]
    value: npt.NDArray[np.float64]
    n: int
    steps: int


# (x per unit, variable and interval, or None when not solved; objective; status)
BlockSolution = tuple[npt.NDArray[np.float64] | None, float, str]


def _block_lp(problem: StorageProblem, coupled_feeders: Sequence[str]) -> LpArrays:
    """Column-wise arrays of the LP of all units in ``problem`` with rows for ``coupled_feeders``' limits."""
    fleet = problem.fleet
    n, steps, dt = len(fleet), problem.intervals, problem.dt_h
    nv = NVAR * steps
    t = np.arange(steps)
    # costs
    cost_unit = np.empty((n, NVAR, steps))
    cost_unit[:, 0, :] = (fleet.degradation_cost_per_kwh * dt)[:, None]
    cost_unit[:, 1, :] = (fleet.degradation_cost_per_kwh * dt)[:, None]
    cost_unit[:, 2, :] = 0.0
    cost_unit[:, 3, :] = problem.import_price * dt
    cost_unit[:, 4, :] = -problem.export_price * dt
    # bounds
    lower = np.zeros((n, NVAR, steps))
    upper = np.empty((n, NVAR, steps))
    upper[:, 0, :] = fleet.power_kw[:, None]
    upper[:, 1, :] = fleet.power_kw[:, None]
    lower[:, 2, :] = fleet.soc_min_kwh[:, None]
    lower[:, 2, -1] = np.maximum(fleet.soc_min_kwh, fleet.soc_initial_kwh)  # terminal >= initial
    upper[:, 2, :] = fleet.soc_max_kwh[:, None]
    # Meter flows are bounded by what the unit can physically do (keeps the LP bounded for any prices).
    upper[:, 3, :] = problem.load_kw + fleet.power_kw[:, None]
    upper[:, 4, :] = problem.pv_kw + fleet.power_kw[:, None]
    # rows per unit: balance (T) then soc dynamics (T) -> 2T rows
    nr = 2 * steps
    net_fixed = problem.load_kw - problem.pv_kw
    row_lower = np.empty((n, nr))
    row_upper = np.empty((n, nr))
    row_lower[:, :steps] = net_fixed
    row_upper[:, :steps] = net_fixed
    row_lower[:, steps:] = 0.0
    row_lower[:, steps] = fleet.soc_initial_kwh
    row_upper[:, steps:] = row_lower[:, steps:]
    # column entries (unit-local): each column's (row, value) pairs
    # charge_t: balance_t -1, soc_t -eta_c dt ; discharge_t: balance_t +1, soc_t +dt/eta_d
    # soc_t: soc_t +1, soc_{t+1} -1 (t < T-1) ; import_t: balance_t +1 ; export_t: balance_t -1
    ones = np.ones(n)
    rows_c = np.stack([t, steps + t], axis=1)  # (T,2)
    rows_s = [np.stack([steps + t[:-1], steps + t[:-1] + 1], axis=1), np.array([[2 * steps - 1]])]
    # Build per unit with fixed pattern: nnz per unit = 2T + 2T + (2(T-1)+1) + T + T
    col_counts = np.concatenate(
        [
            np.full(steps, 2),
            np.full(steps, 2),
            np.r_[np.full(steps - 1, 2), 1],
            np.ones(steps),
            np.ones(steps),
        ]
    ).astype(np.int64)
    local_rows = np.concatenate(
        [rows_c.ravel(), rows_c.ravel(), rows_s[0].ravel(), rows_s[1].ravel(), t, t]
    ).astype(np.int64)
    nnz_unit = int(col_counts.sum())
    values = np.empty((n, nnz_unit))
    eta_c, eta_d = fleet.efficiency_charge, fleet.efficiency_discharge
    pos = 0
    values[:, pos : pos + 2 * steps : 2] = -1.0
    values[:, pos + 1 : pos + 2 * steps : 2] = (-eta_c * dt)[:, None]
    pos += 2 * steps
    values[:, pos : pos + 2 * steps : 2] = 1.0
    values[:, pos + 1 : pos + 2 * steps : 2] = (dt / eta_d)[:, None]
    pos += 2 * steps
    soc_vals = np.tile(np.r_[np.tile([1.0, -1.0], steps - 1), 1.0], (n, 1))
    values[:, pos : pos + 2 * steps - 1] = soc_vals
    pos += 2 * steps - 1
    values[:, pos : pos + steps] = 1.0
    pos += steps
    values[:, pos : pos + steps] = -1.0
    del ones
    # feeder coupling rows appended after all units' rows
    feeder_index = {f: k for k, f in enumerate(coupled_feeders)}
    unit_feeder = np.array([feeder_index.get(f, -1) for f in fleet.feeders])
    coupled = unit_feeder >= 0
    base_rows = n * nr
    # assemble CSC: per unit columns in order; coupled units get 1 extra entry on import/export columns
    extra = np.zeros((n, nv), dtype=np.int64)
    extra[coupled, 3 * steps :] = 1
    counts = np.tile(col_counts, (n, 1)) + extra
    starts = np.zeros(n * nv + 1, dtype=np.int64)
    np.cumsum(counts.ravel(), out=starts[1:])
    total = int(starts[-1])
    index = np.empty(total, dtype=np.int32)
    value = np.empty(total)
    if not coupled.any():
        index[:] = (local_rows[None, :] + (np.arange(n) * nr)[:, None]).ravel()
        value[:] = values.ravel()
    else:
        # write per unit (vectorised within a unit); coupled feeders are the small part of a fleet
        col_first = np.cumsum(np.r_[0, col_counts[:-1]])
        for u in range(n):
            s = starts[u * nv]
            if not coupled[u]:
                index[s : s + nnz_unit] = local_rows + u * nr
                value[s : s + nnz_unit] = values[u]
                continue
            ustarts = starts[u * nv : (u + 1) * nv] - s
            # copy the unit pattern column by column in two vectorised moves: non-flow then flow columns
            k = 3 * steps
            m = int(col_first[k])
            index[s : s + m] = local_rows[:m] + u * nr
            value[s : s + m] = values[u, :m]
            flow_pos = s + ustarts[k:]
            index[flow_pos] = local_rows[m:] + u * nr
            value[flow_pos] = values[u, m:]
            feeder_row = base_rows + unit_feeder[u] * steps + np.r_[t, t]
            index[flow_pos + 1] = feeder_row
            value[flow_pos + 1] = np.r_[np.ones(steps), -np.ones(steps)]
    f_lower = np.empty((len(coupled_feeders), steps))
    f_upper = np.empty((len(coupled_feeders), steps))
    for f, k in feeder_index.items():
        imp, exp = problem.feeder_limits[f]
        f_lower[k] = -exp + LIMIT_MARGIN_KW
        f_upper[k] = imp - LIMIT_MARGIN_KW
    return {
        "cost": cost_unit.ravel(),
        "lower": lower.ravel(),
        "upper": upper.ravel(),
        "row_lower": np.r_[row_lower.ravel(), f_lower.ravel()],
        "row_upper": np.r_[row_upper.ravel(), f_upper.ravel()],
        "starts": starts,
        "index": index,
        "value": value,
        "n": n,
        "steps": steps,
    }


_BANNER_SHOWN = False


def _highs(time_limit: float | None = None) -> highspy.Highs:
    """A silent HiGHS instance. HiGHS prints its banner to fd 1 when the process's first instance is made,
    which would corrupt `storage_optimize --json`: that first construction runs with fd 1 on /dev/null."""
    global _BANNER_SHOWN
    import highspy

    # highspy's `Highs.__init__` lacks its `-> None`, so mypy takes it for an untyped function
    if _BANNER_SHOWN:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h


def _highs_lp(arrays: LpArrays) -> highspy.HighsLp:
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = len(arrays["cost"])
    lp.num_row_ = len(arrays["row_lower"])
    lp.col_cost_ = arrays["cost"]
    lp.col_lower_ = arrays["lower"]
    lp.col_upper_ = arrays["upper"]
    lp.row_lower_ = arrays["row_lower"]
    lp.row_upper_ = arrays["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = arrays["starts"]
    lp.a_matrix_.index_ = arrays["index"]
    lp.a_matrix_.value_ = arrays["value"]
    return lp


def _solve_lp(
    h: highspy.Highs, arrays: LpArrays, basis: highspy.HighsBasis | None = None
) -> tuple[npt.NDArray[np.float64] | None, float, str, highspy.HighsBasis | None]:
    """Solve with simplex (no presolve, so a basis can be handed on); return (x, objective, status, basis)."""
    import highspy

    h.clearModel()
    h.setOptionValue("presolve", "off")
    h.passModel(_highs_lp(arrays))
    if basis is not None:
        h.setBasis(basis)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None, math.nan, h.modelStatusToString(status), None
    x = np.asarray(h.getSolution().col_value).reshape(arrays["n"], NVAR, arrays["steps"])
    return x, h.getInfo().objective_function_value, "optimal", h.getBasis()


def _solve_block(
    problem: StorageProblem, coupled_feeders: Sequence[str], binaries: bool, time_limit: float
) -> BlockSolution:
    """Solve a block of units: each alone, then (if its feeder limit binds) the feeder jointly, warm-started.

    The joint LP starts from the units' own optimal bases with the feeder rows basic, so dual simplex only
    repairs the feeder rows: a few hundred iterations instead of a cold solve. Returns (x, objective, status).
    """
    import highspy

    n, steps = len(problem.fleet), problem.intervals
    h = _highs()
    x = np.empty((n, NVAR, steps))
    objective = 0.0
    col_status: list[highspy.HighsBasisStatus] = []
    row_status: list[highspy.HighsBasisStatus] = []
    block = _block_lp(problem, ())
    nv, nr = NVAR * steps, 2 * steps
    continuous = np.zeros(nv, dtype=np.int32)
    for u in range(n):
        # each unit's LP is a contiguous slice of the block's arrays
        s0, s1 = block["starts"][u * nv], block["starts"][(u + 1) * nv]
        h.clearModel()
        h.setOptionValue("presolve", "off")
        h.passModel(
            nv,
            nr,
            int(s1 - s0),
            1,  # column-wise
            1,  # minimise
            0.0,
            block["cost"][u * nv : (u + 1) * nv],
            block["lower"][u * nv : (u + 1) * nv],
            block["upper"][u * nv : (u + 1) * nv],
            block["row_lower"][u * nr : (u + 1) * nr],
            block["row_upper"][u * nr : (u + 1) * nr],
            (block["starts"][u * nv : (u + 1) * nv] - s0).astype(np.int32),
            (block["index"][s0:s1] - u * nr).astype(np.int32),
            block["value"][s0:s1],
            continuous,
        )
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, math.nan, h.modelStatusToString(h.getModelStatus())
        x[u] = np.asarray(h.getSolution().col_value).reshape(NVAR, steps)
        objective += h.getInfo().objective_function_value
        basis = h.getBasis()
        col_status += list(basis.col_status)
        row_status += list(basis.row_status)
    arrays = None
    if coupled_feeders:
        flows = (x[:, 3] - x[:, 4]).sum(axis=0)
        imp, exp = problem.feeder_limits[coupled_feeders[0]]
        if np.any(flows > imp - LIMIT_MARGIN_KW) or np.any(flows < -exp + LIMIT_MARGIN_KW):
            arrays = _block_lp(problem, coupled_feeders)
            start = highspy.HighsBasis()
            start.col_status = col_status
            start.row_status = row_status + [highspy.HighsBasisStatus.kBasic] * (
                len(arrays["row_lower"]) - len(row_status)
            )
            start.valid = True
            x_joint, objective, status, _basis = _solve_lp(h, arrays, start)
            if x_joint is None:
                return None, math.nan, status
            x = x_joint
    simultaneous = _simultaneous(problem, x) if binaries else np.zeros(n, dtype=bool)
    simultaneous |= _below_min_power(problem, x)
    if not simultaneous.any():
        # the LP optimum is exclusive and keeps every minimum power, so it is the MILP's optimum
        return x, objective, "optimal"
    if arrays is not None:
        return _solve_milp(problem, arrays, x, time_limit)
    results: list[BlockSolution] = []
    for u in range(n):
        if not simultaneous[u]:
            results.append((x[u : u + 1], _unit_cost(problem, x, u), "optimal"))
            continue
        sub = problem.subproblem(np.array([u]))
        results.append(_solve_milp(sub, _block_lp(sub, ()), x[u : u + 1], time_limit))
    if any(r[0] is None for r in results):
        return None, math.nan, next(r[2] for r in results if r[0] is None)
    status = "time_limit" if any(r[2] == "time_limit" for r in results) else "optimal"
    return np.concatenate([r[0] for r in results]), sum(r[1] for r in results), status


def _simultaneous(problem: StorageProblem, x: np.ndarray, tolerance: float = 1e-7) -> np.ndarray:
    """Per unit: does the LP solution charge and discharge (or import and export) at once where it matters?"""
    negative = (problem.import_price < 0) | (problem.export_price < 0)
    export_pays = problem.export_price > problem.import_price
    both_battery = (x[:, 0] > tolerance) & (x[:, 1] > tolerance) & negative[None, :]
    both_meter = (x[:, 3] > tolerance) & (x[:, 4] > tolerance) & export_pays[None, :]
    return np.asarray((both_battery | both_meter).any(axis=1))


def _below_min_power(problem: StorageProblem, x: np.ndarray, tolerance: float = 1e-7) -> np.ndarray:
    """Per unit: does the LP solution break its minimum-power rule (on below the minimum, or both on)?"""
    minimum = problem.fleet.min_power[:, None]
    ruled = minimum > 0
    low = ((x[:, 0] > tolerance) & (x[:, 0] < minimum - tolerance)) | (
        (x[:, 1] > tolerance) & (x[:, 1] < minimum - tolerance)
    )
    both = (x[:, 0] > tolerance) & (x[:, 1] > tolerance)
    return np.asarray((ruled & (low | both)).any(axis=1))


def _unit_cost(problem: StorageProblem, x: np.ndarray, u: int) -> float:
    """The LP objective of unit u's columns."""
    dt = problem.dt_h
    wear = problem.fleet.degradation_cost_per_kwh[u] * (x[u, 0] + x[u, 1])
    return float((dt * (problem.import_price * x[u, 3] - problem.export_price * x[u, 4] + wear)).sum())


def _exclusive(problem: StorageProblem, x: np.ndarray) -> np.ndarray:
    """Make an LP solution exclusive: one of charge/discharge, import/export; same SoC path."""
    fleet = problem.fleet
    x = x.copy()
    eta_c, eta_d = fleet.efficiency_charge[:, None], fleet.efficiency_discharge[:, None]
    delta = eta_c * x[:, 0] - x[:, 1] / eta_d  # SoC change per hour
    x[:, 0] = np.where(delta > 0, delta / eta_c, 0.0)
    x[:, 1] = np.where(delta < 0, -delta * eta_d, 0.0)
    net = problem.load_kw - problem.pv_kw + x[:, 0] - x[:, 1]
    x[:, 3] = np.maximum(net, 0.0)
    x[:, 4] = np.maximum(-net, 0.0)
    return x


def _solve_milp(
    problem: StorageProblem, arrays: LpArrays, x_lp: np.ndarray, time_limit: float
) -> BlockSolution:
    """Add binaries only where needed, with the LP solution (made exclusive) as incumbent.

    - units with a minimum power: per interval `on_c`, `on_d` with `min·on ≤ p ≤ P·on` and `on_c + on_d ≤ 1`;
    - other units, where a price is negative: charge xor discharge (one binary);
    - every unit, where the export price exceeds the import price: import xor export (one binary).
    If the solver stops at the time limit without a feasible schedule, the fallback is the LP solution made
    exclusive when it keeps every rule, else the units with a minimum power idle (if the feeder allows).
    """
    import highspy

    n, steps = arrays["n"], arrays["steps"]
    negative = np.flatnonzero((problem.import_price < 0) | (problem.export_price < 0))
    export_pays = np.flatnonzero(problem.export_price > problem.import_price)
    minimum = problem.fleet.min_power
    upper = arrays["upper"].reshape(n, NVAR, steps)
    ncont = len(arrays["cost"])
    x_inc = _exclusive(problem, x_lp)
    rows_i: list[int] = []
    cols_i: list[int | np.integer[Any]] = []
    vals_i: list[float] = []
    rlo: list[float] = []
    rup: list[float] = []
    start_values: list[float] = []
    r = len(arrays["row_lower"])
    inf = highspy.kHighsInf

    def binary() -> int:
        return ncont + len(start_values)

    def row(entries: list[tuple[int | np.integer[Any], float]], lo: float, up: float) -> None:
        nonlocal r
        for col, val in entries:
            rows_i.append(r)
            cols_i.append(col)
            vals_i.append(val)
        rlo.append(lo)
        rup.append(up)
        r += 1

    for u in range(n):
        col0 = u * NVAR * steps
        if minimum[u] > 0:
            for t in range(steps):
                on = []
                for var in (0, 1):
                    col, y = col0 + var * steps + t, binary()
                    row([(col, 1.0), (y, -upper[u, var, t])], -inf, 0.0)  # p <= P on
                    row([(col, 1.0), (y, -minimum[u])], 0.0, inf)  # p >= min on
                    start_values.append(float(x_inc[u, var, t] > 0))
                    on.append(y)
                row([(on[0], 1.0), (on[1], 1.0)], -inf, 1.0)
        else:
            for tn in negative:
                y = binary()
                row([(col0 + tn, 1.0), (y, -upper[u, 0, tn])], -inf, 0.0)
                row([(col0 + steps + tn, 1.0), (y, upper[u, 1, tn])], -inf, upper[u, 1, tn])
                start_values.append(float(x_inc[u, 0, tn] > 0))
        for te in export_pays:
            z = binary()
            row([(col0 + 3 * steps + te, 1.0), (z, -upper[u, 3, te])], -inf, 0.0)
            row([(col0 + 4 * steps + te, 1.0), (z, upper[u, 4, te])], -inf, upper[u, 4, te])
            start_values.append(float(x_inc[u, 3, te] > 0))
    nbin = len(start_values)
    h = _highs(time_limit)
    h.setOptionValue("mip_rel_gap", MIP_RELATIVE_GAP)
    lp = highspy.HighsLp()
    lp.num_col_ = ncont + nbin
    lp.col_cost_ = np.r_[arrays["cost"], np.zeros(nbin)]
    lp.col_lower_ = np.r_[arrays["lower"], np.zeros(nbin)]
    lp.col_upper_ = np.r_[arrays["upper"], np.ones(nbin)]
    # merge the extra entries into the column-wise matrix through a scipy-free triplet -> CSC conversion
    starts, index, value = arrays["starts"], arrays["index"], arrays["value"]
    cols_lp = np.repeat(np.arange(ncont), np.diff(starts))
    all_cols = np.r_[cols_lp, np.asarray(cols_i, dtype=np.int64)]
    all_rows = np.r_[index.astype(np.int64), np.asarray(rows_i, dtype=np.int64)]
    all_vals = np.r_[value, np.asarray(vals_i)]
    order = np.lexsort((all_rows, all_cols))
    counts = np.bincount(all_cols, minlength=ncont + nbin)
    lp.num_row_ = r
    lp.row_lower_ = np.r_[arrays["row_lower"], np.asarray(rlo)]
    lp.row_upper_ = np.r_[arrays["row_upper"], np.asarray(rup)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.r_[0, np.cumsum(counts)]
    lp.a_matrix_.index_ = all_rows[order].astype(np.int32)
    lp.a_matrix_.value_ = all_vals[order]
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * ncont + [highspy.HighsVarType.kInteger] * nbin
    h.passModel(lp)
    # incumbent: the LP solution made exclusive (HiGHS drops it if it breaks a minimum power or a limit)
    start = highspy.HighsSolution()
    start.col_value = list(np.r_[x_inc.ravel(), np.asarray(start_values)])
    h.setSolution(start)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible solution found
        if status == highspy.HighsModelStatus.kInfeasible:
            return None, math.nan, h.modelStatusToString(status)
        fallback = _milp_fallback(problem, x_inc)
        if fallback is None:
            return None, math.nan, h.modelStatusToString(status)
        return fallback, _block_cost(problem, fallback), "time_limit"
    x = np.asarray(h.getSolution().col_value)[:ncont].reshape(n, NVAR, steps)
    label = "optimal" if status == highspy.HighsModelStatus.kOptimal else "time_limit"
    return x, info.objective_function_value, label


def _block_cost(problem: StorageProblem, x: np.ndarray) -> float:
    return float(sum(_unit_cost(problem, x, u) for u in range(len(x))))


def _milp_fallback(problem: StorageProblem, x_inc: np.ndarray) -> np.ndarray | None:
    """A feasible schedule when the MILP found none in time: the exclusive LP solution if it keeps every
    minimum power, else with the minimum-power units idle (state of charge held); None if a feeder limit
    would break."""
    candidates = [x_inc]
    ruled = problem.fleet.min_power > 0
    if ruled.any():
        idle = x_inc.copy()
        idle[ruled, 0] = 0.0
        idle[ruled, 1] = 0.0
        idle[ruled, 2] = problem.fleet.soc_initial_kwh[ruled, None]
        net = problem.load_kw - problem.pv_kw + idle[:, 0] - idle[:, 1]
        idle[:, 3] = np.maximum(net, 0.0)
        idle[:, 4] = np.maximum(-net, 0.0)
        candidates.append(idle)
    for x in candidates:
        schedule = Schedule(x[:, 0], x[:, 1], x[:, 2], 0.0, "time_limit")
        if not schedule_violations(problem, schedule):
            return x
    return None


# ---------------------------------------------------------------------------------------------------------
# Decomposition by feeder, in parallel
# ---------------------------------------------------------------------------------------------------------
_SHARED: StorageProblem | None = None


def _work(job: Job) -> JobResult:
    index, coupled, binaries, time_limit = job
    assert _SHARED is not None
    sub = _SHARED.subproblem(index) if len(index) != len(_SHARED.fleet) else _SHARED
    x, objective, status, cpu = block_solve(sub, coupled, binaries, time_limit)
    return index, x, objective, status, cpu


def _run_jobs(
    problem: StorageProblem,
    jobs: list[Job],
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[JobResult]:
    global _SHARED
    _SHARED = problem
    try:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield _work(job)
                if progress:
                    progress(len(job[0]))
            return
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for result in pool.map(_work, jobs, chunksize=1):
                yield result
                if progress:
                    progress(len(result[0]))
    finally:
        _SHARED = None


def feeder_precheck(problem: StorageProblem) -> None:
    """Raise ScheduleInfeasible when no battery power can keep a feeder within its limits somewhere."""
    feeders = np.asarray(problem.fleet.feeders)
    net = problem.load_kw - problem.pv_kw
    power = problem.fleet.power_kw
    for feeder, (imp, exp) in sorted(problem.feeder_limits.items()):
        members = feeders == feeder
        if not members.any():
            continue
        lowest = net[members].sum(axis=0) - power[members].sum()
        highest = net[members].sum(axis=0) + power[members].sum()
        over = np.flatnonzero(lowest > imp)
        if over.size:
            t = over[0]
            raise ScheduleInfeasible(
                f"feeder {feeder}: interval {problem.interval_label(t)}: net import is at least "
                f"{lowest[t]:.3f} kW with every battery discharging at full power, above the import limit "
                f"{imp:g} kW"
            )
        under = np.flatnonzero(highest < -exp)
        if under.size:
            t = under[0]
            raise ScheduleInfeasible(
                f"feeder {feeder}: interval {problem.interval_label(t)}: net export is at least "
                f"{-highest[t]:.3f} kW with every battery charging at full power, above the export limit "
                f"{exp:g} kW"
            )


Job = tuple[np.ndarray, tuple[str, ...], bool, float]  # (unit indices, coupled feeders, binaries, time limit)
JobResult = tuple[
    np.ndarray, np.ndarray | None, float, str, float
]  # (indices, x[:, :3], objective, status, cpu)


def schedule_jobs(
    problem: StorageProblem, *, milp_time_limit: float = 20.0, units_per_block: int = UNITS_PER_BLOCK
) -> list[Job]:
    """The independent subproblems: one per limited feeder (largest first), unlimited units in blocks."""
    binaries = bool(problem.binary_intervals().any())
    feeders = np.asarray(problem.fleet.feeders)
    limited = np.isin(feeders, list(problem.feeder_limits))
    jobs: list[Job] = [
        (np.flatnonzero(feeders == f), (f,), binaries, milp_time_limit)
        for f in sorted(problem.feeder_limits)
        if (feeders == f).any()
    ]
    jobs.sort(key=lambda job: -len(job[0]))
    free = np.flatnonzero(~limited)
    jobs += [
        (free[i : i + units_per_block], (), binaries, milp_time_limit)
        for i in range(0, len(free), units_per_block)
    ]
    return jobs


def block_solve(
    problem: StorageProblem, coupled: Sequence[str], binaries: bool, time_limit: float
) -> tuple[np.ndarray | None, float, str, float]:
    """Solve one subproblem (all its units): (charge/discharge/soc per unit, objective, status, CPU s)."""
    import time

    cpu = time.process_time()
    x, objective, status = _solve_block(problem, coupled, binaries, time_limit)
    cpu = time.process_time() - cpu
    return (None if x is None else x[:, :3].astype(np.float64)), objective, status, cpu


def schedule_combine(problem: StorageProblem, results: Sequence[JobResult], started: float) -> Schedule:
    """The fleet's schedule from its subproblems' solutions; raise ScheduleInfeasible for a failed one."""
    import time

    n, steps = len(problem.fleet), problem.intervals
    feeders = np.asarray(problem.fleet.feeders)
    charge = np.zeros((n, steps))
    discharge = np.zeros((n, steps))
    soc = np.zeros((n, steps))
    statuses: set[str] = set()
    coupled = []
    for index, x, _objective, status, _cpu in results:
        if x is None:
            raise ScheduleInfeasible(
                f"feeder {feeders[index[0]]}: the limits cannot be met over the day with the batteries' "
                f"energy (solver: {status})"
            )
        charge[index], discharge[index], soc[index] = x[:, 0], x[:, 1], x[:, 2]
        statuses.add(status)
        limits = problem.feeder_limits.get(feeders[index[0]]) if len(index) else None
        if limits is not None:
            total = (problem.load_kw[index] - problem.pv_kw[index] + x[:, 0] - x[:, 1]).sum(axis=0)
            imp, exp = limits
            if np.any(total > imp - 2 * LIMIT_MARGIN_KW) or np.any(total < -exp + 2 * LIMIT_MARGIN_KW):
                coupled.append(str(feeders[index[0]]))
    status = "time_limit" if "time_limit" in statuses else "optimal"
    schedule = Schedule(charge, discharge, soc, 0.0, status, feeders_coupled=sorted(coupled))
    schedule.solver_cpu_seconds = float(sum(r[4] for r in results))
    schedule.objective = schedule_cost(problem, schedule)
    schedule.seconds = time.perf_counter() - started
    return schedule


def schedule_optimize(
    problem: StorageProblem,
    *,
    workers: int | None = None,
    milp_time_limit: float = 20.0,
    units_per_block: int = UNITS_PER_BLOCK,
    progress: Callable[[int], None] | None = None,
) -> Schedule:
    """Return the fleet's cost-minimal schedule, exact by feeder decomposition; raise ScheduleInfeasible."""
    import time

    started = time.perf_counter()
    problem_validate(problem)
    feeder_precheck(problem)
    workers = workers or min(os.cpu_count() or 1, 8)
    jobs = schedule_jobs(problem, milp_time_limit=milp_time_limit, units_per_block=units_per_block)
    results = list(_run_jobs(problem, jobs, workers, progress))
    return schedule_combine(problem, results, started)


# ---------------------------------------------------------------------------------------------------------
# Subproblems as plain data (JSON), for solving them in other processes or machines (Celery workers)
# ---------------------------------------------------------------------------------------------------------
def problem_payload(problem: StorageProblem, index: np.ndarray | None = None) -> dict[str, Any]:
    """The problem (or the units `index` of it) as JSON-ready lists."""
    sub = problem if index is None else problem.subproblem(np.asarray(index))
    fleet = sub.fleet
    return {
        "units": list(fleet.units),
        "feeders": list(fleet.feeders),
        **{name: getattr(fleet, name).tolist() for name in FLEET_ARRAY_FIELDS},
        "min_power_kw": fleet.min_power.tolist(),
        "dt_h": sub.dt_h,
        "import_price": sub.import_price.tolist(),
        "export_price": sub.export_price.tolist(),
        "pv_kw": sub.pv_kw.tolist(),
        "load_kw": sub.load_kw.tolist(),
        "feeder_limits": {f: list(v) for f, v in sub.feeder_limits.items() if f in set(fleet.feeders)},
        "interval_starts": None if sub.interval_starts is None else list(sub.interval_starts),
    }


def problem_from_payload(payload: dict[str, Any]) -> StorageProblem:
    steps = len(payload["import_price"])
    return StorageProblem(
        fleet=Fleet(
            units=list(payload["units"]),
            feeders=list(payload["feeders"]),
            **{name: np.asarray(payload[name], dtype=float) for name in FLEET_ARRAY_FIELDS},
            min_power_kw=np.asarray(payload["min_power_kw"], dtype=float),
        ),
        dt_h=float(payload["dt_h"]),
        import_price=np.asarray(payload["import_price"], dtype=float),
        export_price=np.asarray(payload["export_price"], dtype=float),
        pv_kw=np.asarray(payload["pv_kw"], dtype=float).reshape(-1, steps),
        load_kw=np.asarray(payload["load_kw"], dtype=float).reshape(-1, steps),
        feeder_limits={f: (float(v[0]), float(v[1])) for f, v in payload["feeder_limits"].items()},
        interval_starts=payload["interval_starts"],
    )


def job_payload(problem: StorageProblem, job: Job) -> dict[str, Any]:
    """One subproblem and how to solve it, as JSON."""
    index, coupled, binaries, time_limit = job
    return {
        "index": index.tolist(),
        "problem": problem_payload(problem, index),
        "coupled": list(coupled),
        "binaries": binaries,
        "time_limit": time_limit,
    }


def job_payload_solve(payload: dict[str, Any]) -> dict[str, Any]:
    """Solve a `job_payload`; the answer is JSON too (set points per unit, objective, status, CPU s)."""
    problem = problem_from_payload(payload["problem"])
    x, objective, status, cpu = block_solve(
        problem, tuple(payload["coupled"]), bool(payload["binaries"]), float(payload["time_limit"])
    )
    return {
        "index": payload["index"],
        "x": None if x is None else x.tolist(),
        "objective": None if x is None else objective,
        "status": status,
        "cpu": cpu,
    }


def problem_merge(parts: Sequence[tuple[np.ndarray, StorageProblem]]) -> StorageProblem:
    """The fleet's problem again from its subproblems and their unit indices (the inverse of splitting)."""
    order = np.concatenate([np.asarray(index, dtype=np.int64) for index, _sub in parts])
    n = len(order)
    first = parts[0][1]
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)

    def stack(getter: Callable[[StorageProblem], np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(getter(sub)) for _index, sub in parts])[position]

    limits: dict[str, tuple[float, float]] = {}
    for _index, sub in parts:
        limits.update(sub.feeder_limits)
    units = [u for _index, sub in parts for u in sub.fleet.units]
    feeders = [f for _index, sub in parts for f in sub.fleet.feeders]
    fleet = Fleet(
        units=[units[k] for k in position],
        feeders=[feeders[k] for k in position],
        **{name: stack(attrgetter(f"fleet.{name}")) for name in FLEET_ARRAY_FIELDS},
        min_power_kw=stack(lambda sub: sub.fleet.min_power),
    )
    return StorageProblem(
        fleet=fleet,
        dt_h=first.dt_h,
        import_price=first.import_price,
        export_price=first.export_price,
        pv_kw=stack(lambda sub: sub.pv_kw),
        load_kw=stack(lambda sub: sub.load_kw),
        feeder_limits=limits,
        interval_starts=first.interval_starts,
    )


def job_result(answer: dict[str, Any]) -> JobResult:
    x = None if answer["x"] is None else np.asarray(answer["x"], dtype=float)
    objective = math.nan if answer["objective"] is None else float(answer["objective"])
    return (
        np.asarray(answer["index"], dtype=np.int64),
        x,
        objective,
        str(answer["status"]),
        float(answer["cpu"]),
    )


# ---------------------------------------------------------------------------------------------------------
# Checks and figures, independent of any solver
# ---------------------------------------------------------------------------------------------------------
def meter_flows(problem: StorageProblem, schedule: Schedule) -> np.ndarray:
    """Net meter flow per unit and interval, kW (positive = import)."""
    flows: npt.NDArray[np.float64] = (
        problem.load_kw - problem.pv_kw + schedule.charge_kw - schedule.discharge_kw
    )
    return flows


def schedule_cost(problem: StorageProblem, schedule: Schedule) -> float:
    """Fleet net cost over the day: import cost − export revenue + degradation."""
    net = meter_flows(problem, schedule)
    dt = problem.dt_h
    energy = (
        np.maximum(net, 0) * problem.import_price - np.maximum(-net, 0) * problem.export_price
    ).sum() * dt
    wear = (
        (schedule.charge_kw + schedule.discharge_kw).sum(axis=1) * problem.fleet.degradation_cost_per_kwh
    ).sum()
    return float(energy + wear * dt)


def schedule_violations(
    problem: StorageProblem, schedule: Schedule, *, tolerance: float = FEASIBILITY_TOLERANCE
) -> list[str]:
    """Every broken rule of the schedule (energy balance, SoC, power, feeder limits, exclusivity)."""
    fleet = problem.fleet
    dt = problem.dt_h
    c, d, s = schedule.charge_kw, schedule.discharge_kw, schedule.soc_kwh
    problems: list[str] = []

    def report(name: str, bad: npt.NDArray[np.bool_]) -> None:
        for u, t in np.argwhere(bad)[:3]:
            problems.append(f"unit {fleet.units[u]} interval {t}: {name}")

    power = fleet.power_kw[:, None]
    report("charge outside [0, power]", (c < -tolerance) | (c > power + tolerance))
    report("discharge outside [0, power]", (d < -tolerance) | (d > power + tolerance))
    previous = np.concatenate([fleet.soc_initial_kwh[:, None], s[:, :-1]], axis=1)
    expected = (
        previous + (fleet.efficiency_charge[:, None] * c - d / fleet.efficiency_discharge[:, None]) * dt
    )
    report("state of charge does not follow charge and discharge", np.abs(expected - s) > tolerance * 10)
    report("state of charge below minimum", s < fleet.soc_min_kwh[:, None] - tolerance)
    report("state of charge above maximum", s > fleet.soc_max_kwh[:, None] + tolerance)
    terminal_short = s[:, -1] < fleet.soc_initial_kwh - tolerance
    for u in np.flatnonzero(terminal_short)[:3]:
        problems.append(f"unit {fleet.units[u]}: terminal state of charge below initial")
    flagged = problem.binary_intervals()
    ruled = (fleet.min_power > 0)[:, None]
    both = (c > tolerance) & (d > tolerance) & (flagged[None, :] | ruled)
    report("charges and discharges at once", both)
    minimum = fleet.min_power[:, None]
    report("charges below its minimum power", ruled & (c > tolerance) & (c < minimum - tolerance))
    report("discharges below its minimum power", ruled & (d > tolerance) & (d < minimum - tolerance))
    net = meter_flows(problem, schedule)
    feeders = np.asarray(fleet.feeders)
    for feeder, (imp, exp) in sorted(problem.feeder_limits.items()):
        total = net[feeders == feeder].sum(axis=0)
        for t in np.flatnonzero(total > imp + tolerance)[:3]:
            problems.append(f"feeder {feeder} interval {t}: import {total[t]:.6f} kW above limit {imp}")
        for t in np.flatnonzero(total < -exp - tolerance)[:3]:
            problems.append(f"feeder {feeder} interval {t}: export {-total[t]:.6f} kW above limit {exp}")
    return problems


def self_consumption_pct(problem: StorageProblem, schedule: Schedule | None) -> float | None:
    """Share of the fleet's PV energy used behind the meters (not exported), percent; None without PV."""
    pv = problem.pv_kw.sum()
    if pv <= 0:
        return None
    if schedule is None:
        exported = np.maximum(problem.pv_kw - problem.load_kw, 0)
    else:
        exported = np.minimum(np.maximum(-meter_flows(problem, schedule), 0), problem.pv_kw)
    return float(100.0 * (1 - exported.sum() / pv))


# ---------------------------------------------------------------------------------------------------------
# The reference: one joint model in PuLP
# ---------------------------------------------------------------------------------------------------------
def joint_pulp_solve(
    problem: StorageProblem, *, binaries: bool | None = None, time_limit: float = 60.0
) -> Schedule:
    """Solve the whole fleet as one PuLP model with HiGHS (reference and small fleets)."""
    import pulp

    fleet = problem.fleet
    n, steps, dt = len(fleet), problem.intervals, problem.dt_h
    binaries = bool(problem.binary_intervals().any()) if binaries is None else binaries
    _highs()  # keeps HiGHS's banner off stdout
    model = pulp.LpProblem("storage", pulp.LpMinimize)
    U, T = range(n), range(steps)
    c = [[model.add_variable(f"c_{u}_{t}", 0, float(fleet.power_kw[u])) for t in T] for u in U]
    d = [[model.add_variable(f"d_{u}_{t}", 0, float(fleet.power_kw[u])) for t in T] for u in U]
    s = [
        [
            model.add_variable(
                f"s_{u}_{t}",
                float(
                    max(fleet.soc_min_kwh[u], fleet.soc_initial_kwh[u])
                    if t == steps - 1
                    else fleet.soc_min_kwh[u]
                ),
                float(fleet.soc_max_kwh[u]),
            )
            for t in T
        ]
        for u in U
    ]
    imp = [
        [model.add_variable(f"i_{u}_{t}", 0, float(problem.load_kw[u, t] + fleet.power_kw[u])) for t in T]
        for u in U
    ]
    exp = [
        [model.add_variable(f"e_{u}_{t}", 0, float(problem.pv_kw[u, t] + fleet.power_kw[u])) for t in T]
        for u in U
    ]
    model += pulp.lpSum(
        dt
        * (
            float(problem.import_price[t]) * imp[u][t]
            - float(problem.export_price[t]) * exp[u][t]
            + float(fleet.degradation_cost_per_kwh[u]) * (c[u][t] + d[u][t])
        )
        for u in U
        for t in T
    )
    for u in U:
        eta_c, eta_d = float(fleet.efficiency_charge[u]), float(fleet.efficiency_discharge[u])
        for t in T:
            net = float(problem.load_kw[u, t] - problem.pv_kw[u, t])
            model += imp[u][t] - exp[u][t] - c[u][t] + d[u][t] == net
            before = s[u][t - 1] if t else float(fleet.soc_initial_kwh[u])
            model += s[u][t] == before + dt * (eta_c * c[u][t] - (1 / eta_d) * d[u][t])
            minimum = float(fleet.min_power[u])
            if minimum > 0:
                on_c = model.add_variable(f"oc_{u}_{t}", cat="Binary")
                on_d = model.add_variable(f"od_{u}_{t}", cat="Binary")
                model += c[u][t] <= float(fleet.power_kw[u]) * on_c
                model += c[u][t] >= minimum * on_c
                model += d[u][t] <= float(fleet.power_kw[u]) * on_d
                model += d[u][t] >= minimum * on_d
                model += on_c + on_d <= 1
            elif binaries and (problem.import_price[t] < 0 or problem.export_price[t] < 0):
                y = model.add_variable(f"y_{u}_{t}", cat="Binary")
                model += c[u][t] <= float(fleet.power_kw[u]) * y
                model += d[u][t] <= float(fleet.power_kw[u]) * (1 - y)
            if binaries and problem.export_price[t] > problem.import_price[t]:
                z = model.add_variable(f"z_{u}_{t}", cat="Binary")
                model += imp[u][t] <= float(problem.load_kw[u, t] + fleet.power_kw[u]) * z
                model += exp[u][t] <= float(problem.pv_kw[u, t] + fleet.power_kw[u]) * (1 - z)
    feeders = np.asarray(fleet.feeders)
    for feeder, (limit_imp, limit_exp) in problem.feeder_limits.items():
        members = np.flatnonzero(feeders == feeder)
        for t in T:
            flow = pulp.lpSum(imp[u][t] - exp[u][t] for u in members)
            model += flow <= limit_imp - LIMIT_MARGIN_KW
            model += flow >= -limit_exp + LIMIT_MARGIN_KW
    model.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, threads=1, gapRel=MIP_RELATIVE_GAP))
    if model.status != pulp.LpStatusOptimal:
        raise ScheduleInfeasible(f"fleet: {pulp.LpStatus[model.status]}")

    def grid(vs: list[list[pulp.LpVariable]]) -> npt.NDArray[np.float64]:
        return np.array([[v.value() or 0.0 for v in row] for row in vs])

    schedule = Schedule(grid(c), grid(d), grid(s), 0.0, "optimal")
    schedule.objective = schedule_cost(problem, schedule)
    return schedule
