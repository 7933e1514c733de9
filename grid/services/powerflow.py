"""Power-flow runs on a stored network: one operating point, a horizon of steps, N-1 over MV lines.

Runs and their violations are stored (`PowerFlowRun`, `Violation`); the net comes from the process cache
(grid/services/network.py) and each step warm-starts from the previous one.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction

from core.errors import DomainError
from grid.calc.contingency import n_minus_1
from grid.calc.powerflow import PowerFlowResult, UnknownElement, ViolationRow
from grid.models import Network, PowerFlowRun, Violation
from grid.services.inputs import StepInputs
from grid.services.network import BuiltNetwork, network_model

MV_MIN_KV = 1.0  # lines at or above this nominal voltage count as MV for N-1


class InvalidElement(DomainError, code="GRID_ELEMENT_UNKNOWN"): ...


@dataclass
class SinglePowerFlow:
    run: PowerFlowRun | None
    result: PowerFlowResult
    buses: int


def _outages(built: BuiltNetwork, out_of_service: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    for element in out_of_service:
        if not (element.startswith("line:") or element.startswith("trafo:")):
            raise InvalidElement(
                f"--out-of-service {element}: use line:NAME or trafo:NAME", field="out_of_service"
            )
    try:
        return built.model.outage_mask(list(out_of_service))
    except UnknownElement as error:
        raise InvalidElement(f"--out-of-service {error}", field="out_of_service") from error


def power_flow_single(
    *,
    network: Network,
    as_of: datetime,
    now: datetime,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    out_of_service: Sequence[str] = (),
    store: bool = True,
) -> SinglePowerFlow:
    """One AC power flow with the stored loads and generation, scaled; stored with its violations."""
    _check_scale(load_scale, "load_scale")
    _check_scale(sgen_scale, "sgen_scale")
    built = network_model(network=network, as_of=as_of)
    with built.lock:
        lines, trafos = _outages(built, out_of_service)
        result = built.model.run(
            load_scale=load_scale, sgen_scale=sgen_scale, line_in_service=lines, trafo_in_service=trafos
        )
    run = None
    if store:
        run = _store(
            network=network,
            kind=PowerFlowRun.Kind.SINGLE,
            load_source=PowerFlowRun.LoadSource.STORED,
            as_of=as_of,
            now=now,
            results=[(None, "", result)],
            buses=len(built.model.net.bus),
            load_scale=load_scale,
            sgen_scale=sgen_scale,
        )
    return SinglePowerFlow(run=run, result=result, buses=len(built.model.net.bus))


def _check_scale(value: float, name: str) -> None:
    if not np.isfinite(value) or value < 0 or value > 100:
        raise DomainError(f"--{name.replace('_', '-')} {value}: give a number from 0 to 100", field=name)


@transaction.atomic
def _store(
    *,
    network: Network,
    kind: str,
    load_source: str,
    as_of: datetime,
    now: datetime,
    results: list[tuple[datetime | None, str, PowerFlowResult]],
    buses: int,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    period: tuple[datetime, datetime] | None = None,
) -> PowerFlowRun:
    converged = [r for _, _, r in results if r.converged]
    vms = [v for r in converged for v in (r.min_vm_pu, r.max_vm_pu) if v is not None]
    loadings = [r.max_line_loading_percent for r in converged if r.max_line_loading_percent is not None]
    rows: list[tuple[datetime | None, str, ViolationRow]] = []
    for at, contingency, result in results:
        if not result.converged:
            rows.append((at, contingency, ViolationRow("network", "not_converged", 0.0, 0.0)))
        rows += [(at, contingency, v) for v in result.violations]
    run = PowerFlowRun.objects.create(
        network=network,
        kind=kind,
        load_source=load_source,
        as_of=as_of,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        steps=len(results),
        load_scale=load_scale,
        sgen_scale=sgen_scale,
        converged=len(converged) == len(results),
        buses=buses,
        min_vm_pu=min(vms) if vms else None,
        max_vm_pu=max(vms) if vms else None,
        max_line_loading_percent=max(loadings) if loadings else None,
        violation_count=len(rows),
        power_flows=len(results),
        seconds=sum(r.seconds for _, _, r in results),
        created_at=now,
    )
    Violation.objects.bulk_create(
        [
            Violation(
                run=run,
                interval_start=at,
                contingency=contingency,
                element=v.element,
                kind=Violation.Kind(v.kind.upper()),
                value=v.value,
                limit=v.limit,
            )
            for at, contingency, v in rows
        ],
        batch_size=5000,
    )
    return run


@dataclass
class HorizonResult:
    run: PowerFlowRun
    results: list[PowerFlowResult]
    steps: list[datetime]
    seconds: float


def power_flow_horizon(
    *,
    network: Network,
    inputs: StepInputs,
    now: datetime,
    out_of_service: Sequence[str] = (),
    store: bool = True,
) -> HorizonResult:
    """A power flow per step of `inputs` (e.g. 96 quarter hours of a day), warm-started step to step."""
    started = time.perf_counter()
    built = network_model(network=network, as_of=inputs.steps[0])
    results = []
    with built.lock:
        lines, trafos = _outages(built, out_of_service)
        for i in range(len(inputs.steps)):
            results.append(
                built.model.run(
                    load_p=inputs.load_p[i],
                    load_q=inputs.load_q[i],
                    sgen_p=inputs.sgen_p[i],
                    sgen_q=inputs.sgen_q[i],
                    line_in_service=lines,
                    trafo_in_service=trafos,
                )
            )
    seconds = time.perf_counter() - started
    run = None
    if store:
        step = inputs.steps[1] - inputs.steps[0] if len(inputs.steps) > 1 else timedelta(minutes=15)
        run = _store(
            network=network,
            kind=PowerFlowRun.Kind.HORIZON,
            load_source=inputs.source,
            as_of=inputs.steps[0],
            now=now,
            results=[(at, "", r) for at, r in zip(inputs.steps, results, strict=True)],
            buses=len(built.model.net.bus),
            period=(inputs.steps[0], inputs.steps[-1] + step),
        )
    return HorizonResult(run=run, results=results, steps=list(inputs.steps), seconds=seconds)  # type: ignore[arg-type]


def mv_line_labels(built: BuiltNetwork) -> list[str]:
    net = built.model.net
    vn = net.bus["vn_kv"].reindex(net.line["from_bus"]).to_numpy()
    mask = (vn >= MV_MIN_KV) & net.line["in_service"].to_numpy(dtype=bool)
    return [str(label) for label in built.model.line_labels[mask]]


@dataclass
class ContingencyResult:
    run: PowerFlowRun | None
    contingencies: int
    with_violations: int
    seconds: float
    exact_runs: int = 0
    screened_runs: int = 0


def power_flow_n_minus_1(
    *,
    network: Network,
    as_of: datetime,
    now: datetime,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    store: bool = True,
    screen: bool = True,
) -> ContingencyResult:
    """Each in-service MV line out in turn; violations new against the intact case stored per contingency.
    Outages that split the network are screened by connectivity (grid/calc/contingency.py) and re-run
    exactly when close to a limit; buses an outage islands have no voltage and are not counted."""
    started = time.perf_counter()
    built = network_model(network=network, as_of=as_of)
    with built.lock:
        study = n_minus_1(
            built.model, mv_line_labels(built), load_scale=load_scale, sgen_scale=sgen_scale, screen=screen
        )
    results: list[tuple[datetime | None, str, PowerFlowResult]] = [
        (None, c.label, c.result) for c in study.contingencies
    ]
    seconds = time.perf_counter() - started
    run = None
    if store:
        run = _store(
            network=network,
            kind=PowerFlowRun.Kind.N_MINUS_1,
            load_source=PowerFlowRun.LoadSource.STORED,
            as_of=as_of,
            now=now,
            results=results,
            buses=len(built.model.net.bus),
            load_scale=load_scale,
            sgen_scale=sgen_scale,
        )
    return ContingencyResult(
        run=run,
        contingencies=len(results),
        with_violations=sum(1 for _, _, r in results if r.violations or not r.converged),
        seconds=seconds,
        exact_runs=study.exact_runs,
        screened_runs=study.screened_runs,
    )
