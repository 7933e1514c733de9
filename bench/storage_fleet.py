"""Battery fleet schedules: 1,000 and 10,000 units × 96 quarter hours with binding feeder limits, end to end
through `storage_optimize`'s file path (read CSVs, optimise, write SCHEDULE.csv), on the machine's cores.

Prints wall time, the solver processes' summed CPU time, how many feeders were coupled, the objective and a
solver-independent feasibility check. `--joint` also solves 1,000 units as one PuLP + HiGHS model and compares
objectives (slow: tens of seconds).

    .venv/bin/python bench/storage_fleet.py [--sizes 1000,10000] [--workers 2] [--joint]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grid.optimize.storage import joint_pulp_solve, schedule_optimize, schedule_violations
from grid.optimize.storage_files import storage_optimize_files
from grid.optimize.synthetic import problem_files_write, synthetic_problem


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--units-per-feeder", type=int, default=50)
    parser.add_argument("--joint", action="store_true")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, workers {args.workers}, load average {os.getloadavg()[0]:.1f} at start")
    for size in (int(s) for s in args.sizes.split(",")):
        problem = synthetic_problem(
            size, steps=96, units_per_feeder=args.units_per_feeder, limit_fraction=0.8
        )
        with tempfile.TemporaryDirectory() as directory:
            paths = problem_files_write(problem, directory)
            started = time.perf_counter()
            summary = storage_optimize_files(
                fleet_path=paths["fleet"],
                prices_path=paths["prices"],
                pv_path=paths["pv"],
                load_path=paths["load"],
                limits_path=paths["limits"],
                out_path=Path(directory) / "schedule.csv",
                workers=args.workers,
            )
            end_to_end = time.perf_counter() - started
        schedule = schedule_optimize(problem, workers=args.workers)
        violations = schedule_violations(problem, schedule)
        print(
            f"{size:>6,} units x 96: end to end {end_to_end:6.1f} s (files + solve); solve alone "
            f"{schedule.seconds:6.1f} s wall, {schedule.solver_cpu_seconds:6.1f} s solver CPU; "
            f"{len(schedule.feeders_coupled)}/{len(problem.feeder_limits)} feeders coupled; objective "
            f"{schedule.objective:,.2f}; violations {len(violations)}; self-consumption "
            f"{summary['renewable_self_consumption_pct']}"
        )
        if args.joint and size <= 2000:
            started = time.perf_counter()
            joint = joint_pulp_solve(problem)
            gap = abs(schedule.objective - joint.objective) / abs(joint.objective)
            print(
                f"        joint PuLP + HiGHS model: {time.perf_counter() - started:.1f} s, objective "
                f"{joint.objective:,.2f}, decomposition gap {100 * gap:.4f} %"
            )
    print(f"load average {os.getloadavg()[0]:.1f} at the end (2 cores shared with other agents)")


if __name__ == "__main__":
    main()
