"""PV self-consumption with vs without home batteries, on measured profiles: PV from NREL PVDAQ system 50
(15-min AC power, 2012, scaled to 3-5 kWp) and household load from the Low Carbon London trial (2013,
half-hourly, each half hour split into two quarter hours), one random April-September day per home.

Self-consumption = PV energy used behind the meter (not exported) / PV energy. Prices: import 0.24/kWh
(0.35 from 16:00 to 19:00), export 0.05/kWh; batteries 5/10/13.5 kWh at half their capacity in kW, 95 %
each way, 0.02/kWh wear. Needs ../shared/data (internal copies; not committed).

    .venv/bin/python bench/storage_self_consumption.py [--homes 300]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grid.optimize.storage import (
    Fleet,
    StorageProblem,
    schedule_optimize,
    schedule_violations,
    self_consumption_pct,
)

SHARED = ROOT.parent.parent / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")


def pv_days() -> np.ndarray:
    """Daily 96-step PV profiles (kW, as measured) on the logger's local clock, Apr-Sep 2012, complete days."""
    frame = pd.read_csv(SHARED / "solar" / "pvdaq_system50_ac_power_15min_2011_2013.csv")
    local = pd.to_datetime(frame["timestamp_as_labelled"].str.slice(0, 19))
    series = pd.Series(frame["ac_power"].to_numpy() / 1000.0, index=local)
    series = series[(series.index.year == 2012) & (series.index.month >= 4) & (series.index.month <= 9)]
    days = []
    for _day, values in series.groupby(series.index.date):
        if len(values) == 96 and values.notna().all() and values.max() > 0.5:
            days.append(values.to_numpy())
    return np.array(days)


def load_days() -> np.ndarray:
    """Daily 96-step household load profiles (kW), Apr-Sep 2013, complete days."""
    frame = pd.read_csv(
        SHARED / "households" / "lcl_2013_halfhourly_kwh_300_households_wide.csv", index_col=0
    )
    frame.index = pd.to_datetime(frame.index)
    frame = frame[(frame.index.month >= 4) & (frame.index.month <= 9)]
    days = []
    for _day, block in frame.groupby(frame.index.date):
        if len(block) != 48:
            continue
        values = block.to_numpy(dtype=float).T  # households x 48
        complete = values[~np.isnan(values).any(axis=1)]
        days.extend(np.repeat(complete * 2.0, 2, axis=1))  # kWh per half hour -> kW, each quarter hour
    return np.array(days)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    pv_all, load_all = pv_days(), load_days()
    n = args.homes
    peak_kwp = rng.uniform(3.0, 5.0, size=n)
    pv = pv_all[rng.integers(len(pv_all), size=n)] * (peak_kwp / pv_all.max())[:, None]
    load = load_all[rng.integers(len(load_all), size=n)]
    capacity = rng.choice([5.0, 10.0, 13.5], size=n)
    hours = np.arange(96) / 4
    import_price = np.where((hours >= 16) & (hours < 19), 0.35, 0.24)
    fleet = Fleet(
        units=[f"H{i:04d}" for i in range(n)],
        feeders=[f"F{i // 50:02d}" for i in range(n)],
        capacity_kwh=capacity,
        power_kw=capacity / 2,
        efficiency_charge=np.full(n, 0.95),
        efficiency_discharge=np.full(n, 0.95),
        soc_min_kwh=0.1 * capacity,
        soc_max_kwh=capacity,
        soc_initial_kwh=0.1 * capacity,
        degradation_cost_per_kwh=np.full(n, 0.02),
    )
    problem = StorageProblem(
        fleet=fleet,
        dt_h=0.25,
        import_price=import_price,
        export_price=np.full(96, 0.05),
        pv_kw=pv,
        load_kw=load,
    )
    schedule = schedule_optimize(problem, workers=args.workers)
    without = self_consumption_pct(problem, None)
    with_storage = self_consumption_pct(problem, schedule)
    print(
        f"{n} homes, {len(pv_all)} measured PV days (PVDAQ 50, 2012), {len(load_all)} measured household days "
        f"(LCL 2013); PV {pv.sum() / 4:,.0f} kWh, load {load.sum() / 4:,.0f} kWh over the day"
    )
    print(
        f"PV self-consumption: {without:.1f} % without storage, {with_storage:.1f} % with storage "
        f"(+{with_storage - without:.1f} points, {100 * (with_storage / without - 1):+.0f} % relative); "
        f"violations {len(schedule_violations(problem, schedule))}; solve {schedule.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
