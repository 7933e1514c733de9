"""The look-ahead run: a power flow per quarter hour over the next hours, alerts and a shedding plan."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from grid import metrics
from grid.models import Network, PowerFlowRun, SheddingPlan
from grid.services.inputs import (
    InputsUnavailable,
    StepInputs,
    forecast_inputs,
    measured_inputs,
    simbench_profile_inputs,
    steps_of,
    stored_inputs,
)
from grid.services.network import network_model
from grid.services.powerflow import power_flow_horizon
from grid.services.shedding import shedding_plan_create


@dataclass
class LookaheadOutcome:
    run: PowerFlowRun
    violation_steps: int
    plan: SheddingPlan | None


def lookahead_inputs(*, network: Network, steps: list[datetime], as_of: datetime) -> StepInputs:
    """Forecasts where forecasting has them, else measured feeder shapes, else SimBench profiles or
    stored values."""
    built = network_model(network=network, as_of=steps[0])
    try:
        return forecast_inputs(built=built, steps=steps, as_of=as_of)
    except InputsUnavailable:
        pass
    if any(built.load_feeder):
        return measured_inputs(built=built, steps=steps)
    if network.source == Network.Source.SIMBENCH:
        return simbench_profile_inputs(built=built, steps=steps)
    return stored_inputs(built=built, steps=steps)


def grid_lookahead(*, network: Network, now: datetime, hours: int) -> LookaheadOutcome:
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    steps = steps_of(start=start, count=hours * 4)
    inputs = lookahead_inputs(network=network, steps=steps, as_of=now)
    horizon = power_flow_horizon(network=network, inputs=inputs, now=now)
    counts = [len(r.violations) + (0 if r.converged else 1) for r in horizon.results]
    for result in horizon.results:
        for violation in result.violations:
            metrics.violations_found.labels(network=network.name, kind=violation.kind).inc()
    violation_steps = sum(1 for c in counts if c)
    metrics.lookahead_violation_steps.labels(network=network.name).set(violation_steps)
    plan = None
    if violation_steps:
        worst = int(np.argmax(counts))
        plan = shedding_plan_create(
            network=network,
            as_of=steps[worst],
            now=now,
            load_p=inputs.load_p[worst],
            load_q=inputs.load_q[worst],
            sgen_p=inputs.sgen_p[worst],
            sgen_q=inputs.sgen_q[worst],
            run=horizon.run,
            period=(steps[worst], steps[worst] + timedelta(minutes=15)),
        ).plan
        if plan is not None:
            metrics.shedding_planned_mw.labels(network=network.name).set(plan.shed_mw)
    return LookaheadOutcome(run=horizon.run, violation_steps=violation_steps, plan=plan)
