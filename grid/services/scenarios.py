"""Scenarios over a day (96 quarter hours): heat wave, cloudy day, outage, planned maintenance, evening ramp.

Each step runs a power flow on the day's loads and generation under the stress; steps with violations are
stored with them, and a shedding plan is computed for the worst step. Base day: SimBench profiles for SimBench
networks, else measured feeder shapes where loads are linked, else the typical day of grid/calc/scenarios.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction

from core.audit import update_audited
from core.errors import DomainError
from core.jobs import enqueue_on_commit
from core.periods import check_instant
from grid.calc import scenarios as shapes
from grid.models import Network, PowerFlowRun, Scenario, ScenarioStep
from grid.services.balancing import scenario_balancing_record
from grid.services.inputs import (
    StepInputs,
    measured_inputs,
    simbench_profile_inputs,
    steps_of,
    stored_inputs,
    temperature_sensitivity,
)
from grid.services.network import BuiltNetwork, network_model
from grid.services.powerflow import mv_line_labels
from grid.services.shedding import shedding_plan_create

RUN_TASK = "grid.tasks.scenarios.scenario_run_task"
STEPS = 96


class ScenarioInvalid(DomainError, code="GRID_SCENARIO_INVALID"): ...


def day_inputs(*, network: Network, built: BuiltNetwork, day_start: datetime) -> StepInputs:
    steps = steps_of(start=day_start, count=STEPS)
    if any(built.load_feeder):
        measured = measured_inputs(built=built, steps=steps)
        if measured.source == PowerFlowRun.LoadSource.MEASURED:
            return measured.scaled(sgen=shapes.typical_pv_shape(STEPS))
    if network.source == Network.Source.SIMBENCH:
        return simbench_profile_inputs(built=built, steps=steps)
    base = stored_inputs(built=built, steps=steps)
    return base.scaled(load=shapes.typical_load_shape(STEPS), sgen=shapes.typical_pv_shape(STEPS))


@transaction.atomic
def scenario_create(
    *,
    network: Network,
    kind: str,
    day_start: datetime,
    parameters: dict[str, Any] | None,
    now: datetime,
    enqueue: bool = False,
) -> Scenario:
    """Record a scenario (PENDING); with `enqueue`, the grid queue runs it once the transaction commits."""
    kinds = [value.lower() for value in Scenario.Kind.values]  # the names the API and admin callers use
    if str(kind).lower() not in kinds:
        raise ScenarioInvalid(f"{kind}: not one of {', '.join(kinds)}", field="kind")
    kind = Scenario.Kind(str(kind).upper())
    check_instant(day_start, field="day_start", error=ScenarioInvalid)
    scenario = Scenario.objects.create(
        network=network, kind=kind, day_start=day_start, parameters=parameters or {}, created_at=now
    )
    if enqueue:
        enqueue_on_commit(RUN_TASK, scenario_id=scenario.pk)
    return scenario


def scenario_run(*, scenario_id: int, now: datetime) -> Scenario:
    """Run a pending scenario (idempotent: a completed one is returned as it is)."""
    scenario = Scenario.objects.select_related("network").get(pk=scenario_id)
    if scenario.status == Scenario.Status.COMPLETED:
        return scenario
    update_audited(Scenario.objects.filter(pk=scenario.pk), status=Scenario.Status.RUNNING)
    try:
        _run(scenario, now=now)
    except Exception as error:
        update_audited(
            Scenario.objects.filter(pk=scenario.pk),
            status=Scenario.Status.FAILED,
            error=str(error)[:2000],
            finished_at=now,
        )
        raise
    scenario.refresh_from_db()
    return scenario


def _base_scaled(base: StepInputs, params: dict[str, Any]) -> StepInputs:
    """Any kind: `load_scale` multiplies the base day's loads; `peak_load_mw` scales them so the day's highest
    total load is that many MW (e.g. the network's design load, when profiles are of a mild day)."""
    factor = float(params.get("load_scale", 1.0))
    if not np.isfinite(factor) or factor <= 0 or factor > 100:
        raise ScenarioInvalid(f"load_scale {factor}: give a number above 0, at most 100", field="parameters")
    if params.get("peak_load_mw") is not None:
        peak = float(params["peak_load_mw"])
        highest = float(base.load_p.sum(axis=1).max())
        if not np.isfinite(peak) or peak <= 0 or highest <= 0:
            raise ScenarioInvalid(f"peak_load_mw {peak}: give a positive number", field="parameters")
        factor *= peak / highest
        params["peak_load_mw"] = peak
    if factor != 1.0:
        params["base_load_factor"] = round(factor, 6)
        return base.scaled(load=factor)
    return base


def _stress(
    scenario: Scenario, built: BuiltNetwork, base: StepInputs
) -> tuple[StepInputs, list[np.ndarray | None], dict[str, Any]]:
    """The stressed inputs, a line-in-service mask per step (None: as built) and what was applied."""
    params = dict(scenario.parameters)
    base = _base_scaled(base, params)
    masks: list[np.ndarray | None] = [None] * STEPS
    kind = scenario.kind
    if kind == Scenario.Kind.HEAT_WAVE:
        extra = float(params.get("extra_c", 8.0))
        sensitivity, source = temperature_sensitivity(
            feeder_codes=sorted({c for c in built.load_feeder if c}),
            period_from=base.steps[0],
            period_to=base.steps[-1] + timedelta(minutes=15),
        )
        params.update(extra_c=extra, sensitivity_per_c=sensitivity, sensitivity_source=source)
        return (
            base.scaled(load=shapes.heat_wave_factor(STEPS, sensitivity_per_c=sensitivity, extra_c=extra)),
            masks,
            params,
        )
    if kind == Scenario.Kind.CLOUDY_DAY:
        factor = float(params.get("pv_factor", 0.2))
        params["pv_factor"] = factor
        return base.scaled(sgen=factor), masks, params
    if kind == Scenario.Kind.EVENING_RAMP:
        rise = float(params.get("load_rise", 0.5))
        load, pv = shapes.evening_ramp_factors(STEPS, load_rise=rise)
        params["load_rise"] = rise
        return base.scaled(load=load, sgen=pv), masks, params
    # Outage (all day) or maintenance (a window): one line or transformer out.
    element = params.get("element") or _busiest_mv_line(built, base)
    if not element:
        raise ScenarioInvalid(
            "the network has no MV line to take out; give parameters.element", field="parameters"
        )
    try:
        lines, trafos = built.model.outage_mask([element])
    except ValueError as error:
        raise ScenarioInvalid(str(error), field="parameters") from error
    params["element"] = element
    first, last = 0, STEPS
    if kind == Scenario.Kind.MAINTENANCE:
        start_hour = float(params.get("start_hour", 9.0))
        end_hour = float(params.get("end_hour", 15.0))
        params.update(start_hour=start_hour, end_hour=end_hour)
        first, last = int(start_hour * 4), int(end_hour * 4)
    for i in range(first, last):
        masks[i] = lines
    params["trafo_mask"] = bool((~trafos).any())
    return base, masks, params


def _busiest_mv_line(built: BuiltNetwork, base: StepInputs) -> str | None:
    labels = mv_line_labels(built)
    if not labels:
        return None
    peak = int(np.argmax(base.load_p.sum(axis=1)))
    result = built.model.run(
        load_p=base.load_p[peak], load_q=base.load_q[peak], sgen_p=base.sgen_p[peak], sgen_q=base.sgen_q[peak]
    )
    if not result.converged:
        return labels[0]
    position = {str(label): i for i, label in enumerate(built.model.line_labels)}
    return max(labels, key=lambda label: np.nan_to_num(result.line_loading_percent[position[label]]))


@dataclass
class StepContext:
    """One scenario step as an adjuster sees it, before its power flow: adjusters may change the injections
    (e.g. batteries charging or discharging at a load's bus) and record what they did in `notes`."""

    scenario: Scenario
    built: BuiltNetwork
    index: int
    at: datetime
    load_p: np.ndarray
    load_q: np.ndarray
    sgen_p: np.ndarray
    sgen_q: np.ndarray
    line_in_service: np.ndarray | None
    notes: dict[str, Any] = field(default_factory=dict)


# Per-step adjusters, called in order before each step's power flow (storage/balancing add theirs here).
StepAdjuster = Callable[[StepContext], None]
STEP_ADJUSTERS: list[StepAdjuster] = []


def _run(scenario: Scenario, *, now: datetime) -> None:
    network = scenario.network
    built = network_model(network=network, as_of=scenario.day_start)
    with built.lock:
        base = day_inputs(network=network, built=built, day_start=scenario.day_start)
        inputs, masks, applied = _stress(scenario, built, base)
        rows = []
        worst, worst_count = None, 0
        if STEP_ADJUSTERS:
            inputs = inputs.scaled()  # own arrays: adjusters' changes are written back per step
        for i, at in enumerate(inputs.steps):
            step = StepContext(
                scenario,
                built,
                i,
                at,
                inputs.load_p[i].copy(),
                inputs.load_q[i].copy(),
                inputs.sgen_p[i].copy(),
                inputs.sgen_q[i].copy(),
                masks[i],
            )
            for adjust in STEP_ADJUSTERS:
                adjust(step)
            inputs.load_p[i], inputs.load_q[i] = step.load_p, step.load_q
            inputs.sgen_p[i], inputs.sgen_q[i] = step.sgen_p, step.sgen_q
            result = built.model.run(
                load_p=step.load_p,
                load_q=step.load_q,
                sgen_p=step.sgen_p,
                sgen_q=step.sgen_q,
                line_in_service=step.line_in_service,
            )
            count = len(result.violations) + (0 if result.converged else 1)
            if count > worst_count:
                worst, worst_count = i, count
            rows.append(
                ScenarioStep(
                    scenario=scenario,
                    interval_start=at,
                    converged=result.converged,
                    load_mw=float(inputs.load_p[i][built.model.load_in_service].sum()),
                    pv_mw=float(inputs.sgen_p[i].sum()),
                    min_vm_pu=result.min_vm_pu,
                    max_line_loading_percent=result.max_line_loading_percent,
                    violation_count=count,
                    violations=[v.as_dict() for v in result.violations[:200]],
                )
            )
        built.model.run()  # leave the cached net at its stored state (warm) for the next caller
    plan = None
    if worst is not None:
        plan = shedding_plan_create(
            network=network,
            as_of=scenario.day_start,
            now=now,
            load_p=inputs.load_p[worst],
            load_q=inputs.load_q[worst],
            sgen_p=inputs.sgen_p[worst],
            sgen_q=inputs.sgen_q[worst],
            line_in_service=masks[worst],
            period=(inputs.steps[worst], inputs.steps[worst] + timedelta(minutes=15)),
        ).plan
        rows[worst].shed_mw = plan.shed_mw if plan else 0.0
    with transaction.atomic():
        ScenarioStep.objects.filter(scenario=scenario).delete()
        ScenarioStep.objects.bulk_create(rows)
        update_audited(
            Scenario.objects.filter(pk=scenario.pk),
            status=Scenario.Status.COMPLETED,
            parameters=applied,
            violation_steps=sum(1 for r in rows if r.violation_count),
            peak_shed_mw=plan.shed_mw if plan else 0.0,
            plan=plan,
            finished_at=now,
            error="",
        )
    # price balancing and batteries next to the shedding plan (storage's hook: docs/storage.md)
    scenario_balancing_record(
        scenario_id=scenario.pk,
        steps=inputs.steps,
        load_mw=np.array([row.load_mw for row in rows]),
        worst_step=worst,
        shed_mw=plan.shed_mw if plan else 0.0,
        feeder_codes=sorted({c for c in built.load_feeder if c}),
        now=now,
    )
