"""Training and forecasting of stored series: champion selection by backtest, daily refit, hourly forecasts.

A series' champion is re-selected by a rolling-origin backtest (7 days ahead) when it is older than
`reselect_after_days` (weekly by default); the daily job refits only the champion, so 1,000 series cost one
fit each. Every fit is a `ModelRun` (model, parameters, training window, data hash, backtest metrics, the
recent errors that make its conformal intervals, the fitted model). Forecasts are versioned by issue time.
"""

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.db import transaction

from core.errors import DomainError
from forecasting.modelling.backtest import backtest, local_midnights
from forecasting.modelling.calendar import Calendar
from forecasting.modelling.intervals import ResidualPool
from forecasting.modelling.models import AUTO_MODELS, lead_days, model_factory
from forecasting.models import Forecast, ModelRun, Series
from forecasting.selectors.forecasts import (
    data_hash,
    model_run_fitted,
    model_run_latest,
    series_get,
    series_history,
)
from forecasting.selectors.weather import weather_frame

HORIZON_DAYS = 7
HISTORY_DAYS = 365
SELECTION_ORIGINS = 14
CALIBRATION_DAYS = 7
WEATHER_REGRESSORS = ("temperature_c",)


class NotEnoughHistory(DomainError, code="not_enough_history"): ...


@dataclass
class TrainOutcome:
    series_code: str
    model: str
    selected: bool
    run_id: int
    forecast_id: int | None


def calendar_of(series: Series) -> Calendar:
    return Calendar(
        zone=series.zone, holidays=series.holidays, step=pd.Timedelta(minutes=series.resolution_minutes)
    )


def horizon_steps(series: Series) -> int:
    return HORIZON_DAYS * 24 * 60 // series.resolution_minutes


def _weather(
    series: Series, start: pd.Timestamp, end: pd.Timestamp, calendar: Calendar, as_of
) -> pd.DataFrame | None:
    """Temperature on the series' grid over [start, end), or None when the series has no weather."""
    if series.weather_location_id is None:
        return None
    hourly = weather_frame(
        location_code=series.weather_location.code, period_from=start, period_to=end, as_of=as_of
    )[list(WEATHER_REGRESSORS)]
    if hourly.notna().sum().min() == 0:
        return None
    grid = pd.date_range(start, end, freq=calendar.step, inclusive="left")
    return hourly.reindex(hourly.index.union(grid)).interpolate(limit_direction="both").reindex(grid)


def _inputs(series: Series, *, now: datetime, history_days: int = HISTORY_DAYS):
    calendar = calendar_of(series)
    origin = pd.Timestamp(now).tz_convert("UTC").floor(calendar.step)
    start = origin - pd.Timedelta(days=history_days)
    y = series_history(series=series, period_from=start, period_to=origin)
    observed = y.dropna()
    if len(observed) < 21 * calendar.steps_per_day:
        raise NotEnoughHistory(
            f"{series.code} has {len(observed)} measured intervals in the last {history_days} days; "
            f"needs three weeks ({21 * calendar.steps_per_day})",
            field="series",
        )
    y = y[y.index >= observed.index[0]]
    horizon_end = origin + calendar.step * horizon_steps(series)
    X = _weather(series, y.index[0], horizon_end, calendar, as_of=now)
    return calendar, origin, y, X


def _select(
    series: Series,
    calendar: Calendar,
    y: pd.Series,
    X,
    origin: pd.Timestamp,
    *,
    now,
    models,
    origins_count,
    options,
) -> ResidualPool:
    """Backtest the candidates on the last `origins_count` days; record the champion and every run."""
    horizon = horizon_steps(series)
    last = origin - calendar.step * horizon
    origins = local_midnights(
        (last - pd.Timedelta(days=origins_count)).tz_convert(calendar.zone).tz_localize(None),
        last.tz_convert(calendar.zone).tz_localize(None) + pd.Timedelta(days=1),
        calendar,
    )
    origins = origins[origins <= last]
    factories = {name: model_factory(name, calendar, horizon=horizon, options=options) for name in models}
    result = backtest(
        y,
        X,
        calendar=calendar,
        factories=factories,
        origins=origins,
        horizon=horizon,
        refit_every_days=7,
        calibration_days=CALIBRATION_DAYS,
    )
    digest = data_hash(y, X)
    pools = {m.name: m for m in [*result.models, result.seasonal_naive]}
    naive_metrics = result.seasonal_naive.metrics
    for m in pools.values():
        ModelRun.objects.create(
            series=series,
            model=m.name,
            purpose=ModelRun.Purpose.SELECT,
            params={"horizon": horizon, "origins": len(origins), "refit_every_days": 7},
            trained_from=y.index[0].to_pydatetime(),
            trained_to=origin.to_pydatetime(),
            data_hash=digest,
            metrics={**_clean(m.metrics), "seasonal_naive": _clean(naive_metrics)},
            residuals=m.pool.as_json(last_days=28),
            fit_seconds=float(np.median(m.fit_seconds or [0])),
            created_at=now,
        )
    champion = result.champion
    series.champion = champion or "seasonal_naive"
    series.no_model_beats_naive = champion is None
    series.champion_selected_at = now
    series.champion_metrics = {
        "models": result.as_json()["models"],
        "seasonal_naive": result.as_json()["seasonal_naive"],
    }
    series.save(
        update_fields=["champion", "no_model_beats_naive", "champion_selected_at", "champion_metrics"]
    )
    return pools[series.champion].pool


def _clean(metrics: dict) -> dict:
    return {k: (None if v is None or not np.isfinite(v) else round(float(v), 4)) for k, v in metrics.items()}


@transaction.atomic
def series_train(
    *,
    series_code: str,
    now: datetime,
    reselect_after_days: float = 7,
    models: tuple[str, ...] = AUTO_MODELS,
    history_days: int = HISTORY_DAYS,
    issue_forecast: bool = True,
    selection_origins: int = SELECTION_ORIGINS,
    model_options: dict | None = None,
) -> TrainOutcome:
    """Refit the series' champion on its history before `now` (re-selecting it by backtest first when it is
    older than `reselect_after_days` or unset), store the run, and issue a forecast at `now`."""
    series = series_get(code=series_code)
    calendar, origin, y, X = _inputs(series, now=now, history_days=history_days)
    stale = series.champion_selected_at is None or (now - series.champion_selected_at) >= timedelta(
        days=reselect_after_days
    )
    if stale or not series.champion:
        pool = _select(
            series,
            calendar,
            y,
            X,
            origin,
            now=now,
            models=models,
            origins_count=selection_origins,
            options=model_options,
        )
        selected = True
    else:
        selection = (
            ModelRun.objects.filter(series=series, purpose=ModelRun.Purpose.SELECT, model=series.champion)
            .order_by("-created_at", "-id")
            .first()
        )
        pool = ResidualPool.from_json(selection.residuals) if selection else ResidualPool()
        selected = False
    model = model_factory(series.champion, calendar, horizon=horizon_steps(series), options=model_options)()
    started = time.perf_counter()
    model.fit(y, X)
    seconds = time.perf_counter() - started
    metrics = series.champion_metrics
    run = ModelRun.objects.create(
        series=series,
        model=series.champion,
        purpose=ModelRun.Purpose.TRAIN,
        params=_params(model),
        trained_from=y.index[0].to_pydatetime(),
        trained_to=origin.to_pydatetime(),
        data_hash=data_hash(y, X),
        metrics=_champion_metrics(metrics, series.champion),
        residuals=pool.as_json(last_days=28),
        fitted=pickle.dumps(model),
        fit_seconds=seconds,
        created_at=now,
    )
    forecast = _issue(series, run, model, pool, calendar, origin, y, X, now=now) if issue_forecast else None
    return TrainOutcome(series.code, series.champion, selected, run.pk, forecast.pk if forecast else None)


def _params(model) -> dict:
    params = {"model": model.name}
    for attr in ("window_days", "params", "daily_fourier", "max_k"):
        if hasattr(model, attr):
            params[attr] = getattr(model, attr)
    return params


def _champion_metrics(metrics: dict, name: str) -> dict:
    for m in metrics.get("models", []):
        if m["name"] == name:
            return {**m, "seasonal_naive": metrics.get("seasonal_naive")}
    return {"seasonal_naive": metrics.get("seasonal_naive")}


def _issue(series, run, model, pool, calendar, origin, y, X, *, now) -> Forecast:
    horizon = horizon_steps(series)
    targets = pd.date_range(origin, periods=horizon, freq=calendar.step)
    predicted = np.asarray(model.predict(y, X, targets), dtype=float)
    frame = pool.bounds(predicted, lead_days(targets, origin, calendar), origin)
    if series.kind != Series.Kind.PRICE:
        frame = frame.clip(lower=0)

    def column(name: str) -> list[float | None]:
        return [None if not np.isfinite(v) else round(float(v), 4) for v in frame[name].to_numpy()]

    forecast, _ = Forecast.objects.update_or_create(
        series=series,
        issued_at=now,
        defaults={
            "run": run,
            "period_from": targets[0].to_pydatetime(),
            "period_to": (targets[-1] + calendar.step).to_pydatetime(),
            "step_minutes": series.resolution_minutes,
            **{c: column(c) for c in ("value", "lower_80", "upper_80", "lower_95", "upper_95")},
        },
    )
    return forecast


@transaction.atomic
def series_forecast(*, series_code: str, now: datetime) -> Forecast:
    """Issue a forecast at `now` from the latest trained run with the newest history and weather (no refit).
    Idempotent for the same `now`."""
    series = series_get(code=series_code)
    run = model_run_latest(series=series)
    if run is None:
        raise NotEnoughHistory(f"{series.code} has no trained model yet", field="series")
    calendar, origin, y, X = _inputs(series, now=now)
    return _issue(
        series,
        run,
        model_run_fitted(run),
        ResidualPool.from_json(run.residuals),
        calendar,
        origin,
        y,
        X,
        now=now,
    )


def series_chunks(*, chunk_size: int) -> list[list[str]]:
    """Active series codes in chunks of `chunk_size` (one task per chunk, so every worker gets some)."""
    codes = list(
        Series.objects.filter(active=True)
        .exclude(kind=Series.Kind.PRICE)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return [codes[i : i + chunk_size] for i in range(0, len(codes), chunk_size)]


def series_train_many(
    *, series_codes: list[str], now: datetime, progress: Callable[[str], None] | None = None, **options
) -> dict[str, str]:
    """Train each series in turn; a failure of one is reported, not raised."""
    outcome = {}
    for code in series_codes:
        try:
            result = series_train(series_code=code, now=now, **options)
            outcome[code] = f"{result.model}{' (selected)' if result.selected else ''}"
        except DomainError as error:
            outcome[code] = f"skipped: {'; '.join(error.messages)}"
        if progress:
            progress(f"{code}: {outcome[code]}")
    return outcome


def series_forecast_many(*, series_codes: list[str], now: datetime) -> dict[str, str]:
    outcome = {}
    for code in series_codes:
        try:
            outcome[code] = f"forecast {series_forecast(series_code=code, now=now).pk}"
        except DomainError as error:
            outcome[code] = f"skipped: {'; '.join(error.messages)}"
    return outcome
