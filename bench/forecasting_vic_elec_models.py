"""Model variants on the vic_elec 2014 day-ahead backtest, side by side, and an honest ensemble of two of them.

The same rolling-origin backtest as `forecast_backtest` (one origin per local midnight of 2014, 48
half-hours ahead, the target strictly before the origin, temperature over the horizon as observed, i.e. a
perfect temperature forecast, as the CLI contract gives regressors), run once per variant with
`--refit-every` days between refits (28 by default: cheaper than the weekly refit of the table in
docs/forecasting.md, and stricter, the models being older). Prints per variant MAPE, RMSE, coverage and the
MAPE per month, and for the ensemble of the first two variants:
- fixed weights (0.5–0.9), for reference only (choosing one of them on 2014 would be tuning on the test year);
- adaptive weights, the honest one: at each origin, inverse mean squared relative error of each member over
  the 28 days of targets before the origin (equal weights until 48 such targets exist).

Variants: `lightgbm` (the app's model), `lightgbm_l1` (the same, L1 objective: the median, closer to what
MAPE rewards), `lightgbm_no_origin` (without the forecast-origin features: lead time, last value and last
day's mean before the origin; the app's model before they were added), `prophet`. Forecasts are kept in /tmp/vic_elec_<variant>_<refit>.pkl, so a second call with
`--reuse` only recombines.

    .venv/bin/python bench/forecasting_vic_elec_models.py lightgbm,prophet [--refit-every 28] [--reuse]
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting.modelling.backtest import backtest, local_midnights
from forecasting.modelling.calendar import Calendar
from forecasting.modelling.csvseries import read_series_csv
from forecasting.modelling.models import GradientBoosting, ProphetModel

VIC = Path("/work/shared/data/demand_weather/vic_elec_2012_2014_halfhourly.csv")
ZONE = "Australia/Melbourne"


def factory(name: str, calendar: Calendar):
    if name == "prophet":
        return lambda: ProphetModel(calendar)
    options = {
        "lightgbm": {},
        "lightgbm_l1": {"params": {"objective": "l1"}},
        "lightgbm_no_origin": {"origin_features": False},
    }[name]
    return lambda: GradientBoosting(calendar, horizon=48, **options)


def mape(actual: np.ndarray, value: np.ndarray) -> float:
    ok = np.isfinite(actual) & np.isfinite(value) & (actual != 0)
    return float(np.mean(np.abs(actual[ok] - value[ok]) / actual[ok]) * 100)


def monthly(frame: pd.DataFrame, value: np.ndarray) -> dict:
    ape = pd.Series(np.abs(frame["actual"].to_numpy() - value) / frame["actual"].to_numpy() * 100)
    month = frame["target"].dt.tz_convert(ZONE).dt.month.to_numpy()
    return {int(k): round(float(v), 2) for k, v in ape.groupby(month).mean().items()}


def adaptive(frame_a: pd.DataFrame, frame_b: pd.DataFrame, window_days: int = 28) -> np.ndarray:
    """Inverse-MSE weights from each member's errors on targets before the origin only."""
    actual = frame_a["actual"].to_numpy(dtype=float)
    a, b = frame_a["value"].to_numpy(dtype=float), frame_b["value"].to_numpy(dtype=float)
    origins = frame_a["origin"].to_numpy()
    targets = frame_a["target"].to_numpy()
    ok = np.isfinite(actual) & np.isfinite(a) & np.isfinite(b)
    err_a = np.where(ok, ((actual - a) / actual) ** 2, np.nan)
    err_b = np.where(ok, ((actual - b) / actual) ** 2, np.nan)
    out = np.empty(len(actual))
    for origin in np.unique(origins):
        rows = origins == origin
        past = ok & (targets < origin) & (targets >= origin - np.timedelta64(window_days, "D"))
        weight = 0.5
        if past.sum() >= 48:
            inv_a, inv_b = 1 / np.mean(err_a[past]), 1 / np.mean(err_b[past])
            weight = inv_a / (inv_a + inv_b)
        out[rows] = weight * a[rows] + (1 - weight) * b[rows]
    return out


def main() -> None:
    names = sys.argv[1].split(",") if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else ["lightgbm"]
    refit = float(sys.argv[sys.argv.index("--refit-every") + 1]) if "--refit-every" in sys.argv else 28.0
    reuse = "--reuse" in sys.argv
    data = read_series_csv(
        VIC,
        time_column="timestamp_local",
        target_column="demand_mw",
        regressor_columns=("temperature_c",),
        zone=ZONE,
    )
    calendar = Calendar(zone=ZONE, holidays="AU-VIC", step=data.step)
    origins = local_midnights(pd.Timestamp("2014-01-01"), pd.Timestamp("2015-01-01"), calendar)
    origins = origins[origins <= data.y.dropna().index[-1] - calendar.step * 47]
    frames = {}
    for name in names:
        path = Path(tempfile.gettempdir()) / f"vic_elec_{name}_{refit:g}.pkl"
        if reuse and path.exists():
            frames[name] = pd.read_pickle(path)  # noqa: S301 - this script's own cache file
            print(f"{name}: reused {path}")
        else:
            started = time.perf_counter()
            result = backtest(
                data.y,
                data.X,
                calendar=calendar,
                factories={name: factory(name, calendar)},
                origins=origins,
                horizon=48,
                refit_every_days=refit,
            )
            frames[name] = result.models[0].forecasts
            frames[name].to_pickle(path)
            print(
                f"{name}: {json.dumps(result.as_json()['models'][0])} "
                f"(naive MAPE {result.seasonal_naive.metrics['mape']:.3f}; {time.perf_counter() - started:.0f} s)"
            )
        frame = frames[name]
        print(f"  MAPE by month: {monthly(frame, frame['value'].to_numpy(dtype=float))}", flush=True)
    if len(frames) >= 2:
        (name_a, a), (name_b, b) = list(frames.items())[:2]
        actual = a["actual"].to_numpy(dtype=float)
        va, vb = a["value"].to_numpy(dtype=float), b["value"].to_numpy(dtype=float)
        print(f"ensemble of {name_a} (weight w) and {name_b}:")
        for w in (0.5, 0.6, 0.7, 0.8, 0.9):
            print(f"  fixed w = {w}: MAPE {mape(actual, w * va + (1 - w) * vb):.3f} (reference only)")
        combined = adaptive(a, b)
        print(f"  adaptive (inverse 28-day MSE, before each origin): MAPE {mape(actual, combined):.3f}")
        print(f"  MAPE by month: {monthly(a, combined)}")


if __name__ == "__main__":
    main()
