"""Day-ahead market price forecasts: gradient boosting on calendar, weather, load and lagged prices,
backtested against the same hour last week. Prices cross zero and spike, so the model learns differences
from the recent level (not ratios) and the intervals are absolute conformal bands."""

from collections.abc import Callable

import pandas as pd

from forecasting.modelling.backtest import BacktestResult, backtest
from forecasting.modelling.calendar import Calendar
from forecasting.modelling.models import GradientBoosting

PRICE_PARAMS = {"objective": "l1", "n_estimators": 300, "learning_rate": 0.05, "num_leaves": 31}


def price_model_factory(calendar: Calendar, *, horizon: int = 24) -> Callable[[], GradientBoosting]:
    return lambda: GradientBoosting(
        calendar, horizon=horizon, window_days=365, params=PRICE_PARAMS, target="difference", compact=False
    )


def price_backtest(
    y: pd.Series,
    X: pd.DataFrame | None,
    *,
    calendar: Calendar,
    origins: pd.DatetimeIndex,
    horizon: int = 24,
    refit_every_days: float = 28,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Day-ahead backtest of the price model against seasonal naive (same hour last week)."""
    return backtest(
        y,
        X,
        calendar=calendar,
        factories={"lightgbm": price_model_factory(calendar, horizon=horizon)},
        origins=origins,
        horizon=horizon,
        refit_every_days=refit_every_days,
        mode="absolute",
        progress=progress,
    )
