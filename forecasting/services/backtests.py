"""Backtests of demand models on a CSV file (the `forecast_backtest` command) or on a stored series."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from core.errors import DomainError
from forecasting.modelling.backtest import BacktestResult, backtest, local_midnights
from forecasting.modelling.calendar import Calendar, UnknownHolidays
from forecasting.modelling.csvseries import BadSeriesFile, SeriesData, read_series_csv
from forecasting.modelling.models import AUTO_MODELS, MODEL_NAMES, model_factory

DEFAULT_ORIGINS = 28


class InvalidBacktest(DomainError, code="invalid_backtest"): ...


@dataclass
class FileBacktest:
    result: BacktestResult
    data: SeriesData


def models_parse(models: str) -> tuple[str, ...]:
    """`auto` or a comma-separated list of MODEL_NAMES."""
    if models.strip() == "auto":
        return AUTO_MODELS
    names = tuple(n.strip() for n in models.split(",") if n.strip())
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise InvalidBacktest(
            f"unknown model(s) {', '.join(unknown) or '(none)'}; "
            f"choose auto or some of {', '.join(MODEL_NAMES)}",
            field="models",
        )
    return names


def backtest_origins(
    data: SeriesData, calendar: Calendar, *, horizon: int, origins_from: date | None, origins_to: date | None
) -> pd.DatetimeIndex:
    """Local midnights in [origins_from, origins_to); by default the last 28 whose horizon the data covers."""
    last = data.y.dropna().index[-1]
    first = data.y.dropna().index[0]
    end_limit = last - calendar.step * (horizon - 1)
    if origins_to is None:
        origins_to = (end_limit.tz_convert(calendar.zone) + pd.Timedelta(days=1)).date()
    if origins_from is None:
        origins_from = origins_to - pd.Timedelta(days=DEFAULT_ORIGINS)
    if origins_from >= origins_to:
        raise InvalidBacktest("--origins-from must be before --origins-to", field="origins_from")
    origins = local_midnights(pd.Timestamp(origins_from), pd.Timestamp(origins_to), calendar)
    origins = origins[(origins <= end_limit) & (origins >= first + pd.Timedelta(days=14))]
    if len(origins) == 0:
        raise InvalidBacktest(
            f"no origin in [{origins_from}, {origins_to}) has 14 days of history and a full horizon "
            f"in the data "
            f"({first.isoformat()} to {last.isoformat()})",
            field="origins_from",
        )
    return origins


def backtest_file(
    *,
    path: Path,
    time_column: str,
    target_column: str,
    regressor_columns: tuple[str, ...] = (),
    zone: str = "UTC",
    holidays: str = "",
    horizon: int = 24,
    origins_from: date | None = None,
    origins_to: date | None = None,
    refit_every_days: float = 7,
    models: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> FileBacktest:
    """Rolling-origin backtest of `models` and seasonal naive on a CSV series (nothing is stored)."""
    if horizon < 1:
        raise InvalidBacktest("--horizon must be at least 1", field="horizon")
    if refit_every_days <= 0:
        raise InvalidBacktest("--refit-every must be positive", field="refit_every")
    names = models_parse(models)
    try:
        Calendar(zone=zone).tz  # noqa: B018 - validates the zone
    except Exception as error:
        raise InvalidBacktest(f"unknown time zone {zone!r}", field="timezone") from error
    data = read_series_csv(
        path,
        time_column=time_column,
        target_column=target_column,
        regressor_columns=regressor_columns,
        zone=zone,
    )
    calendar = Calendar(zone=zone, holidays=holidays, step=data.step)
    try:
        calendar.holiday_dates(range(2020, 2021))
    except UnknownHolidays as error:
        raise InvalidBacktest(str(error), field="holidays") from error
    if progress:
        progress(
            f"{path}: {len(data.y):,} steps of {int(data.step / pd.Timedelta(minutes=1))} min, "
            f"{data.missing_steps:,} missing in {len(data.gaps)} gap(s)"
        )
        for start, end in data.gaps[:20]:
            progress(f"  gap [{start.isoformat()}, {end.isoformat()})")
    origins = backtest_origins(
        data, calendar, horizon=horizon, origins_from=origins_from, origins_to=origins_to
    )
    factories = {name: model_factory(name, calendar, horizon=horizon) for name in names}
    result = backtest(
        data.y,
        data.X,
        calendar=calendar,
        factories=factories,
        origins=origins,
        horizon=horizon,
        refit_every_days=refit_every_days,
        progress=progress,
    )
    return FileBacktest(result=result, data=data)


__all__ = ["BadSeriesFile", "FileBacktest", "InvalidBacktest", "backtest_file", "models_parse"]
