"""Rolling-origin backtests, their metrics, and the champion rule.

One origin per local midnight; at each origin a model sees the target strictly before it and the regressors
over the whole horizon, and forecasts the next `horizon` steps. Models are refitted every `refit_every_days`;
between refits they predict from the newer history with the older fit. Intervals are conformal: the origins of
a `calibration_days` warm-up before the first scored origin, and every earlier scored origin, give the errors
(targets before the current origin only). The champion is the model with the lowest MAPE that beats seasonal
naive; when none does there is no champion and seasonal naive is what the series is forecast with.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.modelling.calendar import DAY, Calendar
from forecasting.modelling.intervals import ResidualPool
from forecasting.modelling.models import Forecaster, lead_days

Progress = Callable[[str], None]


def metrics(
    actual: np.ndarray, frame: pd.DataFrame, naive: np.ndarray | None = None
) -> dict[str, float | None]:
    """MAPE (%), RMSE, MASE (MAE over seasonal naive's MAE on the same points), pinball_80 (mean pinball
    loss of the 10 % and 90 % bounds), coverage of the 80 % and 95 % bands."""
    value = frame["value"].to_numpy(dtype=float)
    ok = np.isfinite(actual) & np.isfinite(value)
    if naive is not None:
        ok &= np.isfinite(naive)
    a, v = actual[ok], value[ok]
    if len(a) == 0:
        return {
            "mape": None,
            "rmse": None,
            "mase": None,
            "pinball_80": None,
            "coverage_80": None,
            "coverage_95": None,
        }
    nonzero = a != 0
    out: dict[str, float | None] = {
        "mape": float(np.mean(np.abs((a[nonzero] - v[nonzero]) / a[nonzero])) * 100)
        if nonzero.any()
        else None,
        "rmse": float(np.sqrt(np.mean((a - v) ** 2))),
        "mase": None,
    }
    if naive is not None:
        naive_mae = float(np.mean(np.abs(a - naive[ok])))
        out["mase"] = float(np.mean(np.abs(a - v)) / naive_mae) if naive_mae > 0 else None
    lower80 = frame["lower_80"].to_numpy(dtype=float)[ok]
    upper80 = frame["upper_80"].to_numpy(dtype=float)[ok]
    lower95 = frame["lower_95"].to_numpy(dtype=float)[ok]
    upper95 = frame["upper_95"].to_numpy(dtype=float)[ok]
    banded = np.isfinite(lower80) & np.isfinite(upper80)
    if banded.any():
        out["pinball_80"] = float(
            (pinball(a[banded], lower80[banded], 0.1) + pinball(a[banded], upper80[banded], 0.9)) / 2
        )
        out["coverage_80"] = float(np.mean((a[banded] >= lower80[banded]) & (a[banded] <= upper80[banded])))
        out["coverage_95"] = float(np.mean((a[banded] >= lower95[banded]) & (a[banded] <= upper95[banded])))
    else:
        out["pinball_80"] = out["coverage_80"] = out["coverage_95"] = None
    return out


def pinball(actual: np.ndarray, quantile: np.ndarray, q: float) -> float:
    diff = actual - quantile
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def local_midnights(start: pd.Timestamp, end: pd.Timestamp, calendar: Calendar) -> pd.DatetimeIndex:
    """The UTC instants of the local midnights in [start, end) (dates interpreted in the calendar's zone)."""
    days = pd.date_range(start.date(), end.date(), freq="D", inclusive="left")
    return days.tz_localize(calendar.zone, nonexistent="shift_forward", ambiguous=False).tz_convert("UTC")


@dataclass
class ModelResult:
    name: str
    metrics: dict[str, float | None]
    fit_seconds: list[float]
    pool: ResidualPool
    forecasts: pd.DataFrame = field(repr=False)


@dataclass
class BacktestResult:
    resolution_minutes: int
    origins: int
    horizon: int
    models: list[ModelResult]
    seasonal_naive: ModelResult
    champion: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "resolution_minutes": self.resolution_minutes,
            "origins": self.origins,
            "horizon": self.horizon,
            "models": [
                {
                    "name": m.name,
                    **{k: _round(m.metrics[k]) for k in ("mape", "rmse", "mase", "pinball_80")},
                    "coverage_80": _round(m.metrics["coverage_80"], 4),
                    "coverage_95": _round(m.metrics["coverage_95"], 4),
                    "fit_seconds_median": _round(
                        float(np.median(m.fit_seconds)) if m.fit_seconds else 0.0, 3
                    ),
                }
                for m in self.models
            ],
            "seasonal_naive": {
                "mape": _round(self.seasonal_naive.metrics["mape"]),
                "rmse": _round(self.seasonal_naive.metrics["rmse"]),
            },
            "champion": self.champion,
        }


def _round(value: float | None, places: int = 3) -> float | None:
    return None if value is None else round(value, places)


def champion_of(models: Sequence[ModelResult], naive: ModelResult) -> str | None:
    """The lowest-MAPE model whose MAPE is below seasonal naive's, else None."""
    naive_mape = naive.metrics["mape"]
    if naive_mape is None:
        return None
    better: list[tuple[float, str]] = []  # (MAPE, name), in the models' order
    for m in models:
        mape = m.metrics["mape"]
        if m.name != "seasonal_naive" and mape is not None and mape < naive_mape:
            better.append((mape, m.name))
    return min(better, key=lambda pair: pair[0])[1] if better else None


def run_model(
    factory: Callable[[], Forecaster],
    y: pd.Series,
    X: pd.DataFrame | None,
    *,
    calendar: Calendar,
    origins: pd.DatetimeIndex,
    scored_from: pd.Timestamp,
    horizon: int,
    refit_every_days: float,
    mode: str = "relative",
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, list[float], ResidualPool]:
    """Forecast from every origin; return one row per (origin, target) with bounds (scored origins only)."""
    model: Forecaster | None = None
    fitted_at: pd.Timestamp | None = None
    fit_seconds: list[float] = []
    pieces = []
    floor = 0.01 * float(np.nanmean(np.abs(y.to_numpy(dtype=float)))) if len(y) else 1e-9
    pool = ResidualPool(mode=mode, floor=max(floor, 1e-9))
    scored = []
    for i, origin in enumerate(origins):
        history = y[y.index < origin]
        if history.dropna().empty:
            continue
        if model is None or fitted_at is None or (origin - fitted_at) >= pd.Timedelta(days=refit_every_days):
            model = factory()
            started = time.perf_counter()
            model.fit(history, X)
            fit_seconds.append(time.perf_counter() - started)
            fitted_at = origin
            if progress:
                progress(f"{model.name}: fitted at origin {origin.isoformat()} ({i + 1}/{len(origins)})")
        targets = pd.date_range(origin, periods=horizon, freq=calendar.step, tz="UTC")
        predicted = np.asarray(model.predict(history, X, targets), dtype=float)
        leads = lead_days(targets, origin, calendar)
        actual = y.reindex(targets).to_numpy(dtype=float)
        frame = pool.bounds(predicted, leads, origin)
        issued = frame.copy()
        if origin >= scored_from:
            frame.insert(0, "target", targets)
            frame.insert(0, "origin", origin)
            frame["actual"] = actual
            scored.append(frame)
        pieces.append((targets, leads, predicted, actual))
        pool.add(targets, leads, predicted, actual, bounds=issued)
    forecasts = pd.concat(scored, ignore_index=True) if scored else pd.DataFrame()
    return forecasts, fit_seconds, pool


def backtest(
    y: pd.Series,
    X: pd.DataFrame | None,
    *,
    calendar: Calendar,
    factories: Mapping[str, Callable[[], Forecaster]],
    origins: pd.DatetimeIndex,
    horizon: int,
    refit_every_days: float = 7,
    calibration_days: int = 28,
    mode: str = "relative",
    progress: Progress | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of every model in `factories` and of seasonal naive on `y`.

    `y` is on a regular UTC grid of step `calendar.step` (NaN in gaps); `X` (or None) covers the history and
    every horizon. Origins with no history before them are skipped.
    """
    from forecasting.modelling.models import SeasonalNaive

    if len(origins) == 0:
        raise ValueError("no forecast origin in the requested range")
    first = origins[0]
    earliest = y.dropna().index[0] + pd.Timedelta(days=14)
    warmup = [o for o in (first - DAY * d for d in range(calibration_days, 0, -1)) if o >= earliest]
    all_origins = pd.DatetimeIndex(warmup).append(origins) if warmup else origins
    all_factories = dict(factories)
    all_factories.setdefault("seasonal_naive", lambda: SeasonalNaive(calendar))
    results: dict[str, ModelResult] = {}
    for name, factory in all_factories.items():
        forecasts, fit_seconds, pool = run_model(
            factory,
            y,
            X,
            calendar=calendar,
            origins=all_origins,
            scored_from=first,
            horizon=horizon,
            refit_every_days=refit_every_days,
            mode=mode,
            progress=progress,
        )
        results[name] = ModelResult(
            name, {}, fit_seconds if name != "seasonal_naive" else [0.0], pool, forecasts
        )
    naive = results["seasonal_naive"]
    naive_values = naive.forecasts["value"].to_numpy(dtype=float) if len(naive.forecasts) else None
    for result in results.values():
        if result.forecasts.empty:
            result.metrics = metrics(np.empty(0), pd.DataFrame(columns=["value"]))
            continue
        aligned = (
            naive_values if naive_values is not None and len(naive_values) == len(result.forecasts) else None
        )
        result.metrics = metrics(result.forecasts["actual"].to_numpy(dtype=float), result.forecasts, aligned)
    listed = [results[name] for name in factories]
    scored_origins = int(naive.forecasts["origin"].nunique()) if len(naive.forecasts) else 0
    return BacktestResult(
        resolution_minutes=int(calendar.step / pd.Timedelta(minutes=1)),
        origins=scored_origins,
        horizon=horizon,
        models=listed,
        seasonal_naive=naive,
        champion=champion_of(listed, naive),
    )
