"""Grid figures on SimBench 1-MVLV-urban-all-0-sw (10,458 buses; the simbench package's bundled data, no
download), from PostgreSQL (DATABASE_URL):

- database → power-flow result, cold (net not cached: rows read, net built, first power flow) and warm
  (cached net, loads of another quarter hour, warm-started);
- a 96-step day (SimBench load and PV profiles of 14 January, quarter hours), N-1 over the MV lines;
- a shedding plan at 1.8× the stored (nominal) loads with PV off, against a one-load-at-a-time greedy plan on
  the same operating point and priorities (seeded: 5 % critical, others 1–4): plan MW / greedy MW.

The greedy (`grid.calc.shedding.greedy_plan`) re-reads its order from a power flow every `--greedy-batch` loads
(default 8; each batch checked by one power flow, the last one undone and redone one load per power flow, so
the stopping point is exact). `--greedy-batch 1` re-reads it after every load: about 5,000 power flows, several
minutes.

    createdb -h 127.0.0.1 -U postgres DB
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/DB .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/DB .venv/bin/python bench/grid_powerflow.py \
        [--skip-greedy] [--shedding-only] [--greedy-batch 8]

The bench imports the network itself (as `grid_import --simbench 1-MVLV-urban-all-0-sw --name
bench-mvlv-urban` would) when it is not stored yet.

The first big power flow of a process compiles pandapower's numba kernels (printed separately as JIT).
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from grid.calc.shedding import greedy_plan, shedding_plan
from grid.models import Network
from grid.services.inputs import simbench_profile_inputs, steps_of
from grid.services.network import network_cache_clear, network_import, network_model
from grid.services.powerflow import power_flow_horizon, power_flow_n_minus_1

CODE = "1-MVLV-urban-all-0-sw"
NAME = "bench-mvlv-urban"
DAY = datetime(2016, 1, 14, tzinfo=UTC)
GREEDY_CAP = 20_000  # power flows; a capped greedy run is reported as such


def _greedy_batch() -> int:
    if "--greedy-batch" in sys.argv:
        return int(sys.argv[sys.argv.index("--greedy-batch") + 1])
    return 8


def main() -> None:
    print(f"machine: {os.getloadavg()[0]:.2f} load average (1 min), {os.cpu_count()} CPUs", flush=True)
    now = datetime.now(UTC)
    started = time.perf_counter()
    network, created = network_import(name=NAME, simbench_code=CODE)
    print(
        f"import ({'new' if created else 'already stored'}): {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    network = Network.objects.get(pk=network.pk)

    started = time.perf_counter()
    built = network_model(network=network, as_of=now)
    first = built.model.run()
    print(
        f"first power flow of the process (DB read, build, numba JIT, flat start): {time.perf_counter() - started:.2f} s, converged {first.converged}",
        flush=True,
    )

    colds = []
    for _ in range(3):
        network_cache_clear()
        started = time.perf_counter()
        built = network_model(network=network, as_of=now)
        built.model.run()
        colds.append(time.perf_counter() - started)
    print(
        f"cold: database → power-flow result, median of 3: {statistics.median(colds):.2f} s (target ≤ 2 s); buses {len(built.model.net.bus)}",
        flush=True,
    )

    day = simbench_profile_inputs(built=built, steps=steps_of(start=DAY, count=96))
    warms = []
    for i in (40, 41, 42, 43, 44):
        started = time.perf_counter()
        built = network_model(network=network, as_of=now)
        built.model.run(
            load_p=day.load_p[i], load_q=day.load_q[i], sgen_p=day.sgen_p[i], sgen_q=day.sgen_q[i]
        )
        warms.append(time.perf_counter() - started)
    print(
        f"warm: database → power-flow result (cached net, warm start), median of 5: {statistics.median(warms):.3f} s (target ≤ 0.3 s)",
        flush=True,
    )

    if "--shedding-only" in sys.argv:
        shedding(network=network, built=built, now=now)
        return
    started = time.perf_counter()
    inputs = simbench_profile_inputs(built=built, steps=steps_of(start=DAY, count=96))
    horizon = power_flow_horizon(network=network, inputs=inputs, now=now, store=False)
    day_seconds = time.perf_counter() - started
    steps_with = sum(1 for r in horizon.results if r.violations)
    print(
        f"96-step day (profiles read + 96 power flows): {day_seconds:.2f} s (target ≤ 10 s); steps with violations {steps_with}",
        flush=True,
    )

    started, cpu = time.perf_counter(), time.process_time()
    n1 = power_flow_n_minus_1(network=network, as_of=now, now=now, store=False)
    print(
        f"N-1 over {n1.contingencies} MV lines: {time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} s CPU (target ≤ 15 s); "
        f"{n1.screened_runs} screened by connectivity, {n1.exact_runs} run exactly; contingencies with new violations {n1.with_violations}",
        flush=True,
    )

    shedding(network=network, built=built, now=now)


def shedding(*, network, built, now) -> None:
    """Plan vs greedy at 1.8× the stored (nominal) loads with PV off."""
    rng = np.random.default_rng(12)
    priority = rng.integers(1, 5, len(built.model.load_p))
    priority[rng.random(len(priority)) < 0.05] = 0
    model = built.model
    load_p, load_q = model.load_p * 1.8, model.load_q * 1.8
    model.run(
        load_p=load_p, load_q=load_q, sgen_scale=0.0
    )  # the operating point a look-ahead run has just solved
    cpu = time.process_time()
    plan = shedding_plan(model, priority=priority, load_p=load_p, load_q=load_q, sgen_scale=0.0)
    print(
        f"shedding at 1.8× nominal load, PV off: {plan.seconds:.2f} s wall, {time.process_time() - cpu:.2f} s CPU (target ≤ 1 s), {plan.power_flows} power flows, "
        f"{len(plan.violations_before)} violations before, {len(plan.violations_after)} after, shed {plan.shed_mw:.3f} MW over "
        f"{int(plan.shed.sum())} loads, critical shed {int((plan.shed & (priority == 0)).sum())}, feasible {plan.feasible}",
        flush=True,
    )
    if "--skip-greedy" in sys.argv:
        return

    original_p, original_q = model.load_p, model.load_q
    model.load_p, model.load_q = load_p, load_q
    try:
        cpu = time.process_time()
        greedy = greedy_plan(
            model, priority=priority, sgen_scale=0.0, batch=_greedy_batch(), max_power_flows=GREEDY_CAP
        )
    finally:
        model.load_p, model.load_q = original_p, original_q
    print(
        f"greedy (one load at a time, order re-read every {_greedy_batch()} loads): {greedy.seconds:.1f} s wall, {time.process_time() - cpu:.1f} s CPU, {greedy.power_flows} power flows, shed {greedy.shed_mw:.3f} MW "
        f"over {int(greedy.shed.sum())} loads, feasible {greedy.feasible}{' (CAPPED)' if greedy.power_flows >= GREEDY_CAP else ''}",
        flush=True,
    )
    print(
        f"plan / greedy shed MW: {plan.shed_mw / max(greedy.shed_mw, 1e-12):.3f} (target ≤ 1.2)",
        flush=True,
    )


if __name__ == "__main__":
    main()
    print(f"machine at the end: {os.getloadavg()[0]:.2f} load average (1 min)", flush=True)
