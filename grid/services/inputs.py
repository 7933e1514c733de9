"""Loads and generation per step, from what other apps know: the one place grid reads metering and
forecasting.

- stored: the network's own values (times scales);
- SimBench profiles: for networks imported from SimBench, each load/sgen follows its bundled profile (the
  package's data, no download), the row of the same quarter hour of the year;
- measured: a load linked to a metering feeder follows that feeder's measured aggregate, as a shape: its
  stored `p_mw` times the aggregate over the aggregate's mean across the horizon (feeder energy is far
  smaller than a SimBench substation's, so absolute values would mean nothing on an imported network);
- forecast: the same with forecasting's `forecast_frame(series_code="feeder:<code>")`, and static generators
  linked to a feeder follow `pv:feeder:<code>` over its maximum across the horizon.
forecasting is imported lazily (it is wired at merge); without it `forecast_inputs` raises
`InputsUnavailable` and callers fall back to measured or stored values.
"""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DomainError
from grid.models import PowerFlowRun
from grid.services.network import BuiltNetwork

STEP = timedelta(minutes=15)
# Used by heat-wave scenarios when forecasting has no sensitivity: +2 % of mean load per °C (electric
# cooling/fans on a hot day in a mild climate; a documented assumption, see docs/grid.md).
FALLBACK_TEMPERATURE_SENSITIVITY = 0.02


class InputsUnavailable(DomainError, code="GRID_INPUTS_UNAVAILABLE"): ...


@dataclass
class StepInputs:
    steps: list[datetime]
    load_p: np.ndarray  # steps × loads, MW
    load_q: np.ndarray
    sgen_p: np.ndarray  # steps × sgens, MW
    sgen_q: np.ndarray
    source: str

    def scaled(self, *, load: np.ndarray | float = 1.0, sgen: np.ndarray | float = 1.0) -> "StepInputs":
        load = np.asarray(load, dtype=float).reshape(-1, 1) if np.ndim(load) else float(load)
        sgen = np.asarray(sgen, dtype=float).reshape(-1, 1) if np.ndim(sgen) else float(sgen)
        return StepInputs(
            self.steps,
            self.load_p * load,
            self.load_q * load,
            self.sgen_p * sgen,
            self.sgen_q * sgen,
            self.source,
        )


def steps_of(*, start: datetime, count: int, step: timedelta = STEP) -> list[datetime]:
    return [start + i * step for i in range(count)]


def stored_inputs(*, built: BuiltNetwork, steps: list[datetime]) -> StepInputs:
    model = built.model
    t = len(steps)
    return StepInputs(
        steps,
        np.tile(model.load_p, (t, 1)),
        np.tile(model.load_q, (t, 1)),
        np.tile(model.sgen_p, (t, 1)),
        np.tile(model.sgen_q, (t, 1)),
        PowerFlowRun.LoadSource.STORED,
    )


def _simbench_folder() -> Path:
    import simbench

    return Path(simbench.__file__).parent / "networks" / "1-complete_data-mixed-all-0-sw"


@functools.lru_cache(maxsize=8)
def _profile_rows(file: str, first_row: int, count: int) -> pd.DataFrame:
    path = _simbench_folder() / file
    frame = pd.read_csv(path, sep=";", skiprows=range(1, first_row + 1), nrows=count)
    return frame.drop(columns=["time"])


def simbench_profile_inputs(*, built: BuiltNetwork, steps: list[datetime]) -> StepInputs:
    """Each load and sgen times its SimBench profile at the same quarter hour of the (2016) profile year."""
    base = stored_inputs(built=built, steps=steps)
    base.source = PowerFlowRun.LoadSource.STORED
    net = built.model.net
    start = steps[0]
    year_start = start.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    first = int((start - year_start) / STEP) % (366 * 96 - len(steps))
    loads = _profile_rows("LoadProfile.csv", first, len(steps))
    renewables = _profile_rows("RESProfile.csv", first, len(steps))
    for j, profile in enumerate(net.load["profile"].to_numpy()):
        if isinstance(profile, str) and f"{profile}_pload" in loads.columns:
            base.load_p[:, j] = built.model.load_p[j] * loads[f"{profile}_pload"].to_numpy(dtype=float)
            base.load_q[:, j] = built.model.load_q[j] * loads[f"{profile}_qload"].to_numpy(dtype=float)
    for j, profile in enumerate(net.sgen["profile"].to_numpy()):
        if isinstance(profile, str) and profile in renewables.columns:
            factor = renewables[profile].to_numpy(dtype=float)
            base.sgen_p[:, j] = built.model.sgen_p[j] * factor
            base.sgen_q[:, j] = built.model.sgen_q[j] * factor
    return base


def _step_values(frame_index: pd.DatetimeIndex, values: np.ndarray, steps: list[datetime]) -> np.ndarray:
    series = pd.Series(values, index=frame_index).sort_index()
    target = pd.DatetimeIndex(steps)
    return series.reindex(series.index.union(target)).ffill().bfill().reindex(target).to_numpy(dtype=float)


def _shape(values: np.ndarray, reference: str) -> np.ndarray:
    scale = np.nanmax(values) if reference == "max" else np.nanmean(values)
    if not np.isfinite(scale) or scale <= 0:
        return np.ones_like(values)
    return np.nan_to_num(values / scale, nan=1.0)


def measured_inputs(*, built: BuiltNetwork, steps: list[datetime]) -> StepInputs:
    """Loads linked to a feeder follow its measured aggregate (metering.selectors.load_aggregate_list)."""
    from metering.selectors.aggregates import load_aggregate_list

    base = stored_inputs(built=built, steps=steps)
    base.source = PowerFlowRun.LoadSource.STORED  # MEASURED once a feeder has rows
    end = steps[-1] + STEP
    for code in sorted({c for c in built.load_feeder if c}):
        rows = list(
            load_aggregate_list(
                level="feeder", code=code, period_start=steps[0] - timedelta(hours=1), period_end=end
            ).values_list("interval_start", "import_kwh")
        )
        if not rows:
            continue
        shape = _shape(
            _step_values(
                pd.DatetimeIndex([r[0] for r in rows]), np.array([float(r[1]) for r in rows]), steps
            ),
            "mean",
        )
        mask = built.load_feeder == code
        base.load_p[:, mask] *= shape[:, None]
        base.load_q[:, mask] *= shape[:, None]
        base.source = PowerFlowRun.LoadSource.MEASURED
    return base


def _forecasting() -> Any:
    """forecasting's reads (its selectors' modules; the package itself exports nothing)."""
    try:
        from forecasting.selectors.forecasts import forecast_frame
        from forecasting.selectors.sensitivity import temperature_sensitivity
    except ImportError as error:  # pragma: no cover - forecasting is a dependency of grid
        raise InputsUnavailable("forecasting selectors are not available") from error
    return SimpleNamespace(forecast_frame=forecast_frame, temperature_sensitivity=temperature_sensitivity)


def forecast_inputs(
    *, built: BuiltNetwork, steps: list[datetime], as_of: datetime | None = None
) -> StepInputs:
    """Loads and sgens linked to a feeder follow forecasting's demand and PV forecasts for it."""
    selectors = _forecasting()
    base = stored_inputs(built=built, steps=steps)
    base.source = PowerFlowRun.LoadSource.FORECAST
    end = steps[-1] + STEP
    found = False
    for code in sorted({c for c in built.load_feeder if c}):
        try:
            frame = selectors.forecast_frame(
                series_code=f"feeder:{code}", period_from=steps[0], period_to=end, as_of=as_of
            )
        except Exception:  # noqa: S112 - the feeder keeps its stored values
            continue
        found = True
        shape = _shape(_step_values(frame.index, frame["value"].to_numpy(dtype=float), steps), "mean")
        mask = built.load_feeder == code
        base.load_p[:, mask] *= shape[:, None]
        base.load_q[:, mask] *= shape[:, None]
        try:
            pv = selectors.forecast_frame(
                series_code=f"pv:feeder:{code}", period_from=steps[0], period_to=end, as_of=as_of
            )
        except Exception:  # noqa: S112 - the feeder keeps its stored values
            continue
        shape = _shape(_step_values(pv.index, pv["value"].to_numpy(dtype=float), steps), "max")
        mask = built.sgen_feeder == code
        base.sgen_p[:, mask] *= shape[:, None]
    if not found:
        raise InputsUnavailable("no forecast covers these steps for any feeder of the network")
    return base


def temperature_sensitivity(
    *, feeder_codes: list[str], period_from: datetime, period_to: datetime
) -> tuple[float, str]:
    """Relative change of load per +1 °C: forecasting's estimate averaged over feeders (relative to each
    feeder's mean) where available, else the documented fallback. Returns (value, where it came from)."""
    try:
        selectors = _forecasting()
        values = []
        for code in feeder_codes:
            try:
                absolute = float(selectors.temperature_sensitivity(series_code=f"feeder:{code}"))
                mean = float(
                    selectors.forecast_frame(
                        series_code=f"feeder:{code}", period_from=period_from, period_to=period_to
                    )["value"].mean()
                )
                if mean > 0 and np.isfinite(absolute):
                    values.append(absolute / mean)
            except Exception:  # noqa: S112 - the feeder keeps its stored values
                continue
        if values:
            return float(np.mean(values)), "forecasting"
    except InputsUnavailable:
        pass
    return FALLBACK_TEMPERATURE_SENSITIVITY, "fallback"
