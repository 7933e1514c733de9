"""Synthetic battery fleets for tests and benchmarks (seeded, Django-free)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grid.optimize.storage import Fleet, StorageProblem


def tou_prices(steps: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A day of import prices with a cheap night and an evening peak, and a flat lower export price."""
    hours = np.arange(steps) * 24 / steps
    price = np.where(hours < 6, 0.12, 0.24)
    price = np.where((hours >= 16) & (hours < 20), 0.42, price)
    price = price + 0.02 * np.sin(hours / 24 * 2 * np.pi * 3)
    return price, np.full(steps, 0.05)


def synthetic_problem(
    units: int,
    *,
    steps: int = 96,
    units_per_feeder: int = 50,
    seed: int = 0,
    limit_fraction: float | None = 0.8,
    import_price: np.ndarray | None = None,
    export_price: np.ndarray | None = None,
    pv_profile: np.ndarray | None = None,
) -> StorageProblem:
    """A fleet of home batteries with PV and load; feeder import limits at ``limit_fraction`` of the peak."""
    rng = np.random.default_rng(seed)
    dt = 24 / steps
    hours = np.arange(steps) * dt
    capacity = rng.choice([5.0, 10.0, 13.5], size=units)
    power = np.round(capacity / 2, 1)
    fleet = Fleet(
        units=[f"U{i:05d}" for i in range(units)],
        feeders=[f"F{i // units_per_feeder:04d}" for i in range(units)],
        capacity_kwh=capacity,
        power_kw=power,
        efficiency_charge=np.full(units, 0.95),
        efficiency_discharge=np.full(units, 0.95),
        soc_min_kwh=0.1 * capacity,
        soc_max_kwh=0.95 * capacity,
        soc_initial_kwh=0.5 * capacity,
        degradation_cost_per_kwh=np.full(units, 0.01),
    )
    if pv_profile is None:
        pv_profile = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None)
    pv = (
        rng.uniform(2.0, 5.0, size=(units, 1))
        * pv_profile[None, :]
        * rng.uniform(0.8, 1.0, size=(units, steps))
    )
    base = 0.3 + 0.5 * np.exp(-((hours - 8) ** 2) / 2) + 1.2 * np.exp(-((hours - 18.5) ** 2) / 3)
    load = rng.uniform(0.6, 1.4, size=(units, 1)) * base[None, :] * rng.uniform(0.7, 1.3, size=(units, steps))
    if import_price is None:
        import_price, default_export = tou_prices(steps)
        export_price = default_export if export_price is None else export_price
    assert export_price is not None
    limits: dict[str, tuple[float, float]] = {}
    if limit_fraction is not None:
        feeders = np.asarray(fleet.feeders)
        for feeder in sorted(set(fleet.feeders)):
            members = feeders == feeder
            net = (load - pv)[members].sum(axis=0)
            # the batteries' unconstrained charging makes a new night/evening peak: cap it
            limits[feeder] = (float(limit_fraction * net.max()), float(limit_fraction * max(-net.min(), 1.0)))
    return StorageProblem(
        fleet=fleet,
        dt_h=dt,
        import_price=np.asarray(import_price, dtype=float),
        export_price=np.asarray(export_price, dtype=float),
        pv_kw=pv,
        load_kw=load,
        feeder_limits=limits,
    )


def problem_files_write(
    problem: StorageProblem, directory: str | Path, *, day_start: str = "2026-01-15T00:00:00Z"
) -> dict[str, Path]:
    """Write FLEET/PRICES/PV/LOAD/LIMITS CSVs of ``problem`` (CLI.md's columns); return their paths."""
    import pandas as pd

    directory = Path(directory)
    fleet = problem.fleet
    steps = problem.intervals
    starts = pd.date_range(pd.Timestamp(day_start), periods=steps + 1, freq=pd.Timedelta(hours=problem.dt_h))
    stamps = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in starts]
    paths = {name: directory / f"{name}.csv" for name in ("fleet", "prices", "pv", "load", "limits")}
    columns = {
        "capacity_kwh": fleet.capacity_kwh,
        "power_kw": fleet.power_kw,
        "efficiency_charge": fleet.efficiency_charge,
        "efficiency_discharge": fleet.efficiency_discharge,
        "soc_min_kwh": fleet.soc_min_kwh,
        "soc_max_kwh": fleet.soc_max_kwh,
        "soc_initial_kwh": fleet.soc_initial_kwh,
        "degradation_cost_per_kwh": fleet.degradation_cost_per_kwh,
    }
    pd.DataFrame({"unit": fleet.units, "feeder": fleet.feeders, **columns}).to_csv(
        paths["fleet"], index=False
    )
    pd.DataFrame(
        {
            "interval_start": stamps[:-1],
            "interval_end": stamps[1:],
            "import_price_per_kwh": problem.import_price,
            "export_price_per_kwh": problem.export_price,
        }
    ).to_csv(paths["prices"], index=False)
    for name, values in (("pv", problem.pv_kw), ("load", problem.load_kw)):
        pd.DataFrame(
            {
                "unit": np.repeat(np.asarray(fleet.units, dtype=object), steps),
                "interval_start": np.tile(np.asarray(stamps[:-1], dtype=object), len(fleet)),
                "kw": values.ravel().round(4),
            }
        ).to_csv(paths[name], index=False)
    pd.DataFrame(
        [(f, imp, exp) for f, (imp, exp) in problem.feeder_limits.items()],
        columns=["feeder", "import_limit_kw", "export_limit_kw"],
    ).to_csv(paths["limits"], index=False)
    return paths
