"""Reads of series, their history, model runs and issued forecasts."""

import hashlib
import pickle
from datetime import datetime

import numpy as np
import pandas as pd

from core.errors import NOT_FOUND, DomainError
from forecasting.models import BacktestRun, Forecast, ForecastingJob, ModelRun, Series, SeriesValue

BOUND_COLUMNS = ("value", "lower_80", "upper_80", "lower_95", "upper_95")


class ForecastNotFound(DomainError, code=NOT_FOUND):
    """No forecast of the series issued at or before `as_of` covers the period."""


class UnknownSeries(DomainError, code=NOT_FOUND): ...


def series_list(*, kind: str | None = None, active: bool | None = True):
    """Series of a kind (`feeder`, `tariff_class`…: the API's lower-case name, or the stored value)."""
    queryset = Series.objects.select_related("weather_location")
    if kind:
        queryset = queryset.filter(kind=kind.upper())
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("code", "id")


def series_get(*, code: str) -> Series:
    series = Series.objects.select_related("weather_location").filter(code=code).first()
    if series is None:
        raise UnknownSeries(f"no series {code!r}", field="series")
    return series


def series_history(*, series: Series, period_from: datetime, period_to: datetime) -> pd.Series:
    """Measured values of a series on its regular UTC grid over [period_from, period_to) (NaN in gaps).
    Feeder, region and portfolio series read metering's aggregates (net import kWh); others their own
    values."""
    step = pd.Timedelta(minutes=series.resolution_minutes)
    start = pd.Timestamp(period_from).tz_convert("UTC").floor(step)
    grid = pd.date_range(start, pd.Timestamp(period_to).tz_convert("UTC"), freq=step, inclusive="left")
    if series.kind in (Series.Kind.FEEDER, Series.Kind.REGION, Series.Kind.PORTFOLIO):
        from metering.selectors.aggregates import load_aggregate_totals

        level = "region" if series.kind == Series.Kind.PORTFOLIO else series.kind.lower()
        code = None if series.kind == Series.Kind.PORTFOLIO else series.code.split(":", 1)[1]
        rows = load_aggregate_totals(level=level, code=code, period_start=grid[0], period_end=period_to)
    else:
        rows = list(
            SeriesValue.objects.filter(
                series=series, interval_start__gte=grid[0], interval_start__lt=period_to
            )
            .order_by("interval_start", "id")
            .values_list("interval_start", "value")
        )
    if not rows:
        return pd.Series(np.nan, index=grid, dtype=float)
    starts, values = zip(*rows, strict=True)
    measured = pd.Series(np.asarray(values, dtype=float), index=pd.DatetimeIndex(starts).tz_convert("UTC"))
    # Aggregates finer than the series resolution are summed into it (e.g. half-hours into hours).
    measured = measured.groupby(measured.index.floor(step)).sum(min_count=1)
    return measured.reindex(grid)


def data_hash(y: pd.Series, X: pd.DataFrame | None) -> str:
    digest = hashlib.sha256(
        y.index.asi8.tobytes() + np.nan_to_num(y.to_numpy(dtype=float), nan=-1e300).tobytes()
    )
    if X is not None:
        digest.update(np.nan_to_num(X.to_numpy(dtype=float), nan=-1e300).tobytes())
    return digest.hexdigest()


def model_run_latest(*, series: Series, purpose: str = ModelRun.Purpose.TRAIN) -> ModelRun | None:
    return ModelRun.objects.filter(series=series, purpose=purpose).order_by("-created_at", "-id").first()


def model_run_list(*, series: Series):
    return ModelRun.objects.filter(series=series).order_by("-created_at", "-id")


def model_run_fitted(run: ModelRun):
    """The fitted model stored with a run (pickled by the training service, never from outside)."""
    return pickle.loads(bytes(run.fitted))  # noqa: S301 - written by this app only


def forecast_latest(
    *, series: Series, period_from: datetime, period_to: datetime, as_of: datetime | None = None
):
    """The latest forecast issued at or before `as_of` whose period covers [period_from, period_to)."""
    queryset = Forecast.objects.select_related("run").filter(
        series=series, period_from__lte=period_from, period_to__gte=period_to
    )
    if as_of is not None:
        queryset = queryset.filter(issued_at__lte=as_of)
    return queryset.order_by("-issued_at", "-id").first()


def forecast_to_frame(forecast: Forecast) -> pd.DataFrame:
    index = pd.date_range(
        pd.Timestamp(forecast.period_from).tz_convert("UTC"),
        periods=len(forecast.value),
        freq=pd.Timedelta(minutes=forecast.step_minutes),
        name="interval_start",
    )
    return pd.DataFrame(
        {
            c: np.asarray([np.nan if v is None else v for v in getattr(forecast, c)], dtype=float)
            for c in BOUND_COLUMNS
        },
        index=index,
    )


def forecast_frame(
    *, series_code: str, period_from: datetime, period_to: datetime, as_of: datetime | None = None
) -> pd.DataFrame:
    """Values and 80/95 % bounds per interval over [period_from, period_to) from the latest forecast issued
    at or before `as_of` (default: the latest). Raises ForecastNotFound when none covers the period."""
    series = Series.objects.filter(code=series_code).first()
    forecast = (
        forecast_latest(series=series, period_from=period_from, period_to=period_to, as_of=as_of)
        if series
        else None
    )
    if forecast is None:
        when = f" issued at or before {as_of.isoformat()}" if as_of else ""
        raise ForecastNotFound(
            f"no forecast of {series_code!r}{when} covers "
            f"[{period_from.isoformat()}, {period_to.isoformat()})",
            field="series",
        )
    frame = forecast_to_frame(forecast)
    frame = frame[(frame.index >= pd.Timestamp(period_from)) & (frame.index < pd.Timestamp(period_to))]
    frame.attrs["run_id"] = forecast.run_id
    frame.attrs["forecast_id"] = forecast.pk
    frame.attrs["issued_at"] = forecast.issued_at
    frame.attrs["model"] = forecast.run.model
    return frame


def backtest_run_get(*, pk: int) -> BacktestRun | None:
    return BacktestRun.objects.select_related("series").filter(pk=pk).first()


def forecasting_job_get(*, pk: int) -> ForecastingJob | None:
    return ForecastingJob.objects.filter(pk=pk).first()


def forecast_with_actuals(*, forecast: Forecast) -> pd.DataFrame:
    """A stored forecast's values and bounds with the measured values of the same intervals (`actual`)."""
    frame = forecast_to_frame(forecast)
    actual = series_history(
        series=forecast.series, period_from=forecast.period_from, period_to=forecast.period_to
    )
    frame["actual"] = actual.reindex(frame.index).to_numpy()
    return frame
