"""Shedding plans on a stored network: computed (grid/calc/shedding.py), stored, approved.

A plan lists the loads to shed and their MW; critical loads (priority 0) are never in it. When no plan clears
every violation without them, the plan is stored with `feasible=False` and a message saying so.
"""

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from django.db import transaction

from core.audit import bulk_update_audited, update_audited
from core.errors import DomainError
from grid.calc.shedding import SheddingResult, shedding_plan
from grid.models import Network, PowerFlowRun, SheddingPlan, SheddingPlanLoad
from grid.services.network import BuiltNetwork, network_model

DEFAULT_PRIORITY = 3
MAX_PRIORITY = 9


class PrioritiesInvalid(DomainError, code="GRID_PRIORITIES_INVALID"): ...


class PlanStateInvalid(DomainError, code="GRID_PLAN_STATE_INVALID"): ...


def priorities_read(*, path: str, load_names: set[str] | None = None) -> dict[str, int]:
    """`load,priority` rows of a CSV; an error names the file, line and column."""
    file = Path(path)
    if not file.is_file():
        raise PrioritiesInvalid(f"{path}: no such file", field="priorities")
    out: dict[str, int] = {}
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["load", "priority"]:
            raise PrioritiesInvalid(f"{path}:1: the header must be load,priority", field="priorities")
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) < 2:
                raise PrioritiesInvalid(f"{path}:{line}: expected load,priority", field="priorities")
            name, value = row[0].strip(), row[1].strip()
            if load_names is not None and name not in load_names:
                raise PrioritiesInvalid(
                    f"{path}:{line}: column load: {name!r} is not a load of the network", field="priorities"
                )
            try:
                priority = int(value)
            except ValueError:
                raise PrioritiesInvalid(
                    f"{path}:{line}: column priority: {value!r} is not a whole number", field="priorities"
                ) from None
            if not 0 <= priority <= MAX_PRIORITY:
                raise PrioritiesInvalid(
                    f"{path}:{line}: column priority: {priority} is not from 0 to {MAX_PRIORITY}",
                    field="priorities",
                )
            if name in out:
                raise PrioritiesInvalid(
                    f"{path}:{line}: column load: {name!r} appears twice", field="priorities"
                )
            out[name] = priority
    return out


def priority_array(*, built: BuiltNetwork, overrides: dict[str, int] | None = None) -> np.ndarray:
    priority = built.load_priority.copy()
    if overrides:
        position = {str(name): i for i, name in enumerate(built.model.load_names)}
        for name, value in overrides.items():
            priority[position[name]] = value
    return priority


@dataclass
class PlanOutcome:
    plan: SheddingPlan | None
    result: SheddingResult
    shed: list[tuple[str, float]]


def shedding_plan_create(
    *,
    network: Network,
    as_of: datetime,
    now: datetime,
    load_scale: float = 1.0,
    sgen_scale: float = 1.0,
    priorities_path: str | None = None,
    load_p: np.ndarray | None = None,
    load_q: np.ndarray | None = None,
    sgen_p: np.ndarray | None = None,
    sgen_q: np.ndarray | None = None,
    line_in_service: np.ndarray | None = None,
    run: PowerFlowRun | None = None,
    period: tuple[datetime, datetime] | None = None,
    store: bool = True,
) -> PlanOutcome:
    """Compute the plan at one operating point (stored values × scales, or the arrays given) and store it."""
    built = network_model(network=network, as_of=as_of)
    overrides = None
    if priorities_path:
        overrides = priorities_read(path=priorities_path, load_names={str(n) for n in built.model.load_names})
    priority = priority_array(built=built, overrides=overrides)
    with built.lock:
        result = shedding_plan(
            built.model,
            priority=priority,
            load_p=load_p,
            load_q=load_q,
            sgen_p=sgen_p,
            sgen_q=sgen_q,
            load_scale=load_scale,
            sgen_scale=sgen_scale,
            line_in_service=line_in_service,
        )
    positions = np.flatnonzero(result.shed)
    shed = [(str(built.model.load_names[i]), float(result.shed_p_mw[i])) for i in positions]
    plan = None
    if store:
        plan = _plan_store(
            network=network,
            built=built,
            result=result,
            priority=priority,
            now=now,
            run=run,
            period=period,
            load_scale=load_scale,
            sgen_scale=sgen_scale,
        )
    return PlanOutcome(plan=plan, result=result, shed=shed)


@transaction.atomic
def _plan_store(
    *, network, built, result, priority, now, run, period, load_scale, sgen_scale
) -> SheddingPlan:
    plan = SheddingPlan.objects.create(
        network=network,
        run=run,
        feasible=result.feasible,
        message=result.message,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        load_scale=load_scale,
        sgen_scale=sgen_scale,
        violations_before=len(result.violations_before),
        violations_after=len(result.violations_after),
        shed_mw=result.shed_mw,
        critical_shed=result.critical_shed,
        power_flows=result.power_flows,
        seconds=result.seconds,
        created_at=now,
    )
    positions = np.flatnonzero(result.shed)
    SheddingPlanLoad.objects.bulk_create(
        [
            SheddingPlanLoad(
                plan=plan,
                load_id=int(built.load_ids[i]),
                load_name=str(built.model.load_names[i]),
                priority=int(priority[i]),
                p_mw=float(result.shed_p_mw[i]),
            )
            for i in positions
        ],
        batch_size=5000,
    )
    return plan


@transaction.atomic
def shedding_plan_approve(*, plan_id: int, user_id: int | None, now: datetime) -> SheddingPlan:
    plan = SheddingPlan.objects.select_for_update().filter(pk=plan_id).first()
    if plan is None:
        raise PlanStateInvalid(f"plan {plan_id}: no such plan", field="plan_id")
    if plan.status == SheddingPlan.Status.APPROVED:
        return plan
    if plan.status != SheddingPlan.Status.PROPOSED:
        raise PlanStateInvalid(
            f"plan {plan_id} is {plan.status}: only a proposed plan can be approved", field="plan_id"
        )
    plan.status = SheddingPlan.Status.APPROVED
    plan.approved_at = now
    plan.approved_by_id = user_id
    plan.save(update_fields=["status", "approved_at", "approved_by"])
    return plan


@transaction.atomic
def load_priorities_set(*, network: Network, priorities: dict[str, int]) -> int:
    """Store shedding priorities by load name (bulk, with an audit entry per changed load)."""
    from grid.models import Load

    loads = {load.name: load for load in Load.objects.filter(network=network, name__in=list(priorities))}
    missing = sorted(set(priorities) - set(loads))
    if missing:
        raise PrioritiesInvalid(f"load {missing[0]!r} is not a load of {network.name}", field="priorities")
    changed = []
    for name, value in priorities.items():
        load = loads[name]
        if load.priority != value:
            changed.append((load, {"priority": [str(load.priority), str(value)]}))
            load.priority = value
    bulk_update_audited(Load, [load for load, _ in changed], ["priority"], batch_size=5000)
    if changed:
        update_audited(Network.objects.filter(pk=network.pk), revision=network.revision + 1)
        network.revision += 1
    return len(changed)
