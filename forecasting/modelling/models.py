"""Forecasting models behind one interface: `fit(y, X)` then `predict(y, X, index)` gives point values.

`y` is the observed target on a regular UTC grid (NaN in gaps) ending before the forecast origin; `X` holds
exogenous regressors (e.g. temperature) on a regular grid that covers both the history and the horizon;
`index` is the UTC instants to forecast. Prediction intervals come from conformal calibration
(`forecasting.modelling.intervals`), the same way for every model, so their coverage is checked, not assumed.
"""

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.modelling.calendar import DAY, Calendar, degree_days, is_temperature

if TYPE_CHECKING:
    import lightgbm
    from prophet import Prophet

MODEL_NAMES = ("seasonal_naive", "prophet", "lightgbm")
AUTO_MODELS = ("prophet", "lightgbm")


class Forecaster(Protocol):
    name: str

    def fit(self, y: pd.Series, X: pd.DataFrame | None) -> None: ...

    def predict(self, y: pd.Series, X: pd.DataFrame | None, index: pd.DatetimeIndex) -> np.ndarray: ...


def local_lag(index: pd.DatetimeIndex, days: int | np.ndarray, calendar: Calendar) -> pd.DatetimeIndex:
    """The instants at the same local wall time `days` days before each of `index` (DST-aware)."""
    days_arr = np.broadcast_to(np.asarray(days), (len(index),))
    shifted = index - pd.to_timedelta(days_arr, unit="D")
    offset_now = calendar.utc_offset_steps(index)
    offset_then = calendar.utc_offset_steps(shifted)
    return shifted + pd.to_timedelta(
        (offset_now - offset_then) * (calendar.step / pd.Timedelta(minutes=1)), "min"
    )


def lead_days(index: pd.DatetimeIndex, origin: pd.Timestamp, calendar: Calendar) -> np.ndarray:
    """The smallest k ≥ 1 per target such that the same local time k days earlier is before `origin`."""
    # From whole days elapsed (never more than the answer, even on a 25-hour day), then one more where the
    # same local time k days earlier is not yet before the origin.
    k: npt.NDArray[np.int_] = np.floor(np.asarray((index - origin) / DAY, dtype=float)).astype(int)
    k = np.maximum(k, 1)
    for _ in range(2):
        late = np.asarray(local_lag(index, k, calendar) >= origin)
        if not late.any():
            break
        k = k + late.astype(int)
    return k


# --- seasonal naive --------------------------------------------------------------------------------------


class SeasonalNaive:
    """The value at the same local time one week earlier (two, three... weeks when that one is missing)."""

    name = "seasonal_naive"

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar

    def fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        return None

    def predict(self, y: pd.Series, X: pd.DataFrame | None, index: pd.DatetimeIndex) -> np.ndarray:
        values = np.full(len(index), np.nan)
        for weeks in range(1, 6):
            missing = np.isnan(values)
            if not missing.any():
                break
            lagged = y.reindex(local_lag(index[missing], 7 * weeks, self.calendar)).to_numpy(dtype=float)
            values[missing] = lagged
        return values


class Constant:
    """The training mean everywhere: a deliberately useless model (tests check it is never champion)."""

    name = "constant"

    def __init__(self, calendar: Calendar | None = None) -> None:
        self.mean = math.nan

    def fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        self.mean = float(np.nanmean(y.to_numpy(dtype=float)))

    def predict(self, y: pd.Series, X: pd.DataFrame | None, index: pd.DatetimeIndex) -> np.ndarray:
        return np.full(len(index), self.mean)


# --- weather features ------------------------------------------------------------------------------------


def weather_table(X: pd.DataFrame | None, calendar: Calendar) -> pd.DataFrame | None:
    """Per regressor: its value, recent lags, trailing means, and the local day's max/min (temperatures also
    as heating/cooling degrees). Built once on X's grid, then looked up by instant."""
    if X is None or X.empty:
        return None
    spd = calendar.steps_per_day
    hour = max(1, int(pd.Timedelta(hours=1) / calendar.step))
    columns: dict[str, pd.Series] = {}
    local_day = calendar.local(X.index).normalize()
    for name in X.columns:
        s = X[name].astype(float)
        columns[f"{name}"] = s
        columns[f"{name}_lag1h"] = s.shift(hour)
        columns[f"{name}_lag3h"] = s.shift(3 * hour)
        columns[f"{name}_mean6h"] = s.rolling(6 * hour, min_periods=1).mean()
        columns[f"{name}_mean24h"] = s.rolling(spd, min_periods=1).mean()
        columns[f"{name}_mean72h"] = s.rolling(3 * spd, min_periods=1).mean()
        by_day = s.groupby(local_day)
        columns[f"{name}_daymax"] = by_day.transform("max")
        columns[f"{name}_daymin"] = by_day.transform("min")
        if is_temperature(name):
            hdd, cdd = degree_days(s)
            columns[f"{name}_hdd"] = pd.Series(hdd, index=X.index)
            columns[f"{name}_cdd"] = pd.Series(cdd, index=X.index)
    return pd.DataFrame(columns, index=X.index)


# --- gradient boosting -----------------------------------------------------------------------------------

LIGHTGBM_PARAMS = {
    "objective": "l2",
    "n_estimators": 300,
    "learning_rate": 0.07,
    "num_leaves": 63,
    "min_child_samples": 30,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "n_jobs": 1,
    "verbose": -1,
}
# A smaller model for short histories (the many aggregates the daily job refits, with weeks of history):
# half the trees, half the leaves, coarser bins. Same accuracy there (bench/forecasting_daily_job.py
# prints both) at about a third of the fit time.
COMPACT_PARAMS = {"n_estimators": 150, "learning_rate": 0.12, "num_leaves": 31, "max_bin": 63}
COMPACT_BELOW_ROWS = 40_000


class GradientBoosting:
    """LightGBM on calendar, weather and lags: one model for every lead day of the horizon.

    Each row is a target instant t seen from k days ahead (k = 1 … max lead day): lags are the same local time
    k, k+1 and 7 days earlier and the 7-day mean ending k days earlier (the level). The target is y / level,
    so the model is scale-free and learns relative effects; the prediction is multiplied back by the level.
    """

    name = "lightgbm"

    def __init__(
        self,
        calendar: Calendar,
        *,
        horizon: int,
        window_days: int = 730,
        params: dict[str, Any] | None = None,
        target: str = "ratio",
        compact: bool | None = None,
        origin_features: bool = True,
    ) -> None:
        # "ratio" (y / level: demand, PV) or "difference" (y − level: prices, which cross zero).
        self.target = target
        self.calendar = calendar
        self.horizon = horizon
        self.window_days = window_days
        self.params = {**LIGHTGBM_PARAMS, **(params or {})}
        # None: COMPACT_PARAMS when the training set has fewer than COMPACT_BELOW_ROWS rows.
        self.compact = compact
        self._explicit = dict(params or {})
        # Features of the forecast origin: lead time, the last value and the last day's mean before it.
        self.origin_features = origin_features
        self.max_k = max(1, math.ceil(horizon / calendar.steps_per_day) + 1)
        self.model: lightgbm.LGBMRegressor | None = None

    def _rows(
        self,
        y: pd.Series,
        X: pd.DataFrame | None,
        t: pd.DatetimeIndex,
        k: np.ndarray,
        origin: pd.DatetimeIndex,
    ) -> pd.DataFrame:
        cal = self.calendar
        spd = cal.steps_per_day
        grid = pd.date_range(
            min(y.index[0], t.min() - pd.Timedelta(days=30)), t.max(), freq=cal.step, tz="UTC"
        )
        yg = y.reindex(grid)
        level_series = yg.rolling(7 * spd, min_periods=spd).mean()
        day_mean = yg.rolling(spd, min_periods=spd // 2).mean()
        cut = local_lag(t, k, cal)
        level = level_series.reindex(cut).to_numpy(dtype=float)
        frame = cal.features(t)
        frame["k"] = k
        for extra in (0, 1):
            frame[f"lag_k{extra}"] = self._scaled(
                yg.reindex(local_lag(t, k + extra, cal)).to_numpy(float), level
            )
        week = np.where(k <= 7, 7, 14)
        frame["lag_week"] = self._scaled(yg.reindex(local_lag(t, week, cal)).to_numpy(dtype=float), level)
        frame["day_mean_k"] = self._scaled(day_mean.reindex(cut).to_numpy(dtype=float), level)
        if getattr(self, "origin_features", False):
            before = origin - cal.step
            frame["ahead_h"] = np.asarray((t - origin) / pd.Timedelta(hours=1), dtype=float)
            frame["last"] = self._scaled(yg.reindex(before).to_numpy(dtype=float), level)
            frame["last_day"] = self._scaled(day_mean.reindex(before).to_numpy(dtype=float), level)
        frame["level"] = level
        table = self._weather
        if table is not None:
            now = table.reindex(t)
            then = table.reindex(cut)
            for name in now.columns:
                frame[f"w_{name}"] = now[name].to_numpy()
            for name in self._weather_columns:
                frame[f"wd_{name}"] = now[name].to_numpy() - then[name].to_numpy()
        return frame

    def _training_origins(self, t: pd.DatetimeIndex, k: np.ndarray) -> pd.DatetimeIndex:
        """The origin each training row stands for: the local midnight k − 1 days before its target's day
        (so that `lead_days` of the target from it is k, as at prediction)."""
        days = self.calendar.local(t).normalize() - pd.to_timedelta(k - 1, unit="D")
        return days.tz_localize(self.calendar.zone, nonexistent="shift_forward", ambiguous=False).tz_convert(
            "UTC"
        )

    def _scaled(self, values: np.ndarray, level: np.ndarray) -> np.ndarray:
        scaled: npt.NDArray[np.float64] = values - level if self.target == "difference" else values / level
        return scaled

    def _unscaled(self, values: np.ndarray, level: np.ndarray) -> np.ndarray:
        unscaled: npt.NDArray[np.float64] = values + level if self.target == "difference" else values * level
        return unscaled

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_weather_of", None)  # the cache key is the caller's frame; never stored with the model
        return state

    def _set_weather(self, X: pd.DataFrame | None) -> None:
        if X is not None and getattr(self, "_weather_of", None) is X:
            return  # the same regressors as last time (a backtest predicts from one frame many times)
        self._weather_of = X
        self._weather = weather_table(X, self.calendar)
        self._weather_columns = [] if X is None else list(X.columns)
        if self._weather is not None and X is not None:  # a weather table is only built from regressors
            self._weather_columns = [f"{c}_mean24h" for c in X.columns] + list(X.columns)

    def fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        import lightgbm

        self._set_weather(X)
        y = y.dropna()
        start = y.index[-1] - pd.Timedelta(days=self.window_days)
        targets = y.index[y.index >= max(start, y.index[0] + pd.Timedelta(days=8))]
        # One row per (target, lead day k), built in one pass: k = 1 for every target, then k = 2, ...
        leads = np.repeat(np.arange(1, self.max_k + 1), len(targets))
        tiled = targets[np.tile(np.arange(len(targets)), self.max_k)]
        data = self._rows(y, X, tiled, leads, self._training_origins(tiled, leads))
        values = np.tile(y.reindex(targets).to_numpy(dtype=float), self.max_k)
        label = self._scaled(values, data["level"].to_numpy())
        keep = np.isfinite(label)
        self.features_ = [c for c in data.columns if c != "level"]
        compact = self.compact if self.compact is not None else int(keep.sum()) < COMPACT_BELOW_ROWS
        if compact:
            self.params = {**LIGHTGBM_PARAMS, **COMPACT_PARAMS, **self._explicit}
        self.model = lightgbm.LGBMRegressor(**self.params)
        self.model.fit(data.loc[keep, self.features_], label[keep])

    def predict(self, y: pd.Series, X: pd.DataFrame | None, index: pd.DatetimeIndex) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("fit the model first")
        self._set_weather(X)
        origin = y.index[-1] + self.calendar.step
        k = lead_days(index, origin, self.calendar)
        frame = self._rows(y, X, index, k, pd.DatetimeIndex(np.repeat(origin, len(index))))
        # a regressor's prediction is an array (LightGBM's return type also covers sparse contributions)
        scaled = np.asarray(self.model.predict(frame[self.features_]))
        return self._unscaled(scaled, frame["level"].to_numpy())


# --- Prophet ---------------------------------------------------------------------------------------------


PROPHET_MAX_ROWS = 9_000


class ProphetModel:
    """Prophet with local holidays, weekday/weekend daily shapes and weather regressors.

    Temperatures enter as heating and cooling degrees (and those of the 24-hour mean), a non-linear effect
    that a linear regressor cannot express. Trained on the last `window_days` days; no sampling of
    uncertainty (the intervals are conformal).
    """

    name = "prophet"

    def __init__(
        self,
        calendar: Calendar,
        *,
        window_days: int = 365,
        daily_fourier: int = 8,
        max_rows: int = PROPHET_MAX_ROWS,
    ) -> None:
        self.calendar = calendar
        self.window_days = window_days
        self.daily_fourier = daily_fourier
        self.max_rows = max_rows
        self.model: Prophet | None = None

    def _frame(self, index: pd.DatetimeIndex, X: pd.DataFrame | None) -> pd.DataFrame:
        cal = self.calendar
        feats = cal.features(index)
        frame = pd.DataFrame({"ds": cal.local(index)})
        off = ((feats["weekend"] == 1) | (feats["holiday"] == 1)).to_numpy()
        frame["workday"] = ~off
        frame["offday"] = off
        table = weather_table(X, cal)
        self.regressors_ = []
        if table is not None and X is not None:  # a weather table is only built from regressors
            rows = table.reindex(index)
            for name in X.columns:
                if is_temperature(name):
                    for col in (f"{name}_hdd", f"{name}_cdd"):
                        frame[col] = rows[col].to_numpy()
                        self.regressors_.append(col)
                    hdd, cdd = degree_days(rows[f"{name}_mean24h"])
                    frame[f"{name}_hdd24"], frame[f"{name}_cdd24"] = hdd, cdd
                    self.regressors_ += [f"{name}_hdd24", f"{name}_cdd24"]
                else:
                    frame[name] = rows[name].to_numpy()
                    self.regressors_.append(name)
        return frame

    def fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        import logging

        from prophet import Prophet

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        logging.getLogger("prophet").setLevel(logging.ERROR)
        y = y.dropna()
        y = y[y.index >= y.index[-1] - pd.Timedelta(days=self.window_days)]
        frame = self._frame(y.index, X)
        frame["y"] = y.to_numpy(dtype=float)
        frame = frame.dropna()
        # A year of half-hourly (or finer) history is thinned to every n-th step: the daily shapes are
        # smooth Fourier series, so hourly points fit them as well, at half the optimiser's cost.
        stride = math.ceil(len(frame) / self.max_rows)
        if stride > 1:
            frame = frame.iloc[::stride]
        span_days = (y.index[-1] - y.index[0]) / DAY
        holidays = self._holidays(y.index)
        model = Prophet(
            growth="linear",
            n_changepoints=5,
            changepoint_prior_scale=0.01,
            yearly_seasonality=6 if span_days >= 300 else False,
            weekly_seasonality=3,
            daily_seasonality=False,
            holidays=holidays,
            uncertainty_samples=0,
        )
        for condition in ("workday", "offday"):
            model.add_seasonality(
                name=f"daily_{condition}",
                period=1,
                fourier_order=self.daily_fourier,
                condition_name=condition,
            )
        for name in self.regressors_:
            model.add_regressor(name, standardize=True)
        model.fit(frame, algorithm="LBFGS", iter=300)
        self.model = model

    def _holidays(self, index: pd.DatetimeIndex) -> pd.DataFrame | None:
        local = self.calendar.local(index)
        dates = self.calendar.holiday_dates(range(local.year.min(), local.year.max() + 2))
        if not dates:
            return None
        return pd.DataFrame({"holiday": "holiday", "ds": pd.to_datetime(sorted(dates))})

    def predict(self, y: pd.Series, X: pd.DataFrame | None, index: pd.DatetimeIndex) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("fit the model first")
        frame = self._frame(index, X)
        frame[self.regressors_] = frame[self.regressors_].ffill().bfill()
        yhat: npt.NDArray[np.float64] = self.model.predict(frame)["yhat"].to_numpy()
        return yhat


def model_factory(
    name: str, calendar: Calendar, *, horizon: int, options: dict[str, Any] | None = None
) -> Callable[[], Forecaster]:
    """A factory of fresh models called `name` (one of MODEL_NAMES)."""
    options = options or {}
    if name == "seasonal_naive":
        return lambda: SeasonalNaive(calendar)
    if name == "lightgbm":
        return lambda: GradientBoosting(calendar, horizon=horizon, **options.get("lightgbm", {}))
    if name == "prophet":
        return lambda: ProphetModel(calendar, **options.get("prophet", {}))
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")
