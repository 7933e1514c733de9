"""Backtests of stored series started through the API: recorded as `BacktestRun`, run by a worker."""

from datetime import date, datetime

import pandas as pd
from django.db import transaction

from core.errors import DomainError
from core.jobs import enqueue_on_commit
from forecasting.modelling.backtest import backtest, local_midnights
from forecasting.modelling.models import model_factory
from forecasting.models import BacktestRun
from forecasting.selectors.forecasts import series_get, series_history
from forecasting.services.backtests import InvalidBacktest, models_parse
from forecasting.services.training import _weather, calendar_of

EXECUTE_TASK = "forecasting.tasks.backtests.backtest_run_execute_task"
MAX_ORIGINS = 92
MAX_HORIZON_DAYS = 7


@transaction.atomic
def backtest_run_start(
    *,
    series_code: str,
    origins_from: date,
    origins_to: date,
    now: datetime,
    models: str = "auto",
    horizon: int | None = None,
    refit_every_days: float = 7,
) -> BacktestRun:
    """Record a backtest of a stored series and enqueue it on the forecasting queue (after commit)."""
    series = series_get(code=series_code)
    names = models_parse(models)
    steps_per_day = 24 * 60 // series.resolution_minutes
    horizon = horizon or steps_per_day
    if not 1 <= horizon <= MAX_HORIZON_DAYS * steps_per_day:
        raise InvalidBacktest(
            f"horizon must be 1 to {MAX_HORIZON_DAYS * steps_per_day} steps", field="horizon"
        )
    if origins_from >= origins_to:
        raise InvalidBacktest("originsFrom must be before originsTo", field="originsFrom")
    if (origins_to - origins_from).days > MAX_ORIGINS:
        raise InvalidBacktest(f"at most {MAX_ORIGINS} origins per backtest", field="originsTo")
    if refit_every_days <= 0:
        raise InvalidBacktest("refitEvery must be positive", field="refitEvery")
    run = BacktestRun.objects.create(
        series=series,
        options={
            "models": list(names),
            "horizon": horizon,
            "origins_from": origins_from.isoformat(),
            "origins_to": origins_to.isoformat(),
            "refit_every_days": refit_every_days,
        },
        created_at=now,
    )
    enqueue_on_commit(EXECUTE_TASK, pk=run.pk)
    return run


def backtest_run_execute(*, pk: int, now: datetime) -> BacktestRun:
    """Run a recorded backtest and store its result (or the reason it failed). Idempotent once done."""
    run = BacktestRun.objects.select_related("series", "series__weather_location").get(pk=pk)
    if run.status != BacktestRun.Status.PENDING:
        return run
    options = run.options
    series = run.series
    calendar = calendar_of(series)
    try:
        first = date.fromisoformat(options["origins_from"])
        last = date.fromisoformat(options["origins_to"])
        origins = local_midnights(pd.Timestamp(first), pd.Timestamp(last), calendar)
        horizon = options["horizon"]
        end = origins[-1] + calendar.step * horizon
        start = origins[0] - pd.Timedelta(days=400)
        y = series_history(series=series, period_from=start, period_to=end)
        observed = y.dropna()
        if observed.empty:
            raise InvalidBacktest(f"{series.code} has no data before {last.isoformat()}", field="originsFrom")
        y = y[y.index >= observed.index[0]]
        origins = origins[origins >= observed.index[0] + pd.Timedelta(days=14)]
        if len(origins) == 0:
            raise InvalidBacktest("no origin has 14 days of history before it", field="originsFrom")
        X = _weather(series, y.index[0], end, calendar, as_of=None)
        factories = {name: model_factory(name, calendar, horizon=horizon) for name in options["models"]}
        result = backtest(
            y,
            X,
            calendar=calendar,
            factories=factories,
            origins=origins,
            horizon=horizon,
            refit_every_days=options["refit_every_days"],
        )
        run.result = result.as_json()
        run.status = BacktestRun.Status.DONE
    except (DomainError, ValueError) as error:
        run.status = BacktestRun.Status.FAILED
        run.error = "; ".join(error.messages) if isinstance(error, DomainError) else str(error)
    run.finished_at = now
    run.save(update_fields=["result", "status", "error", "finished_at"])
    return run


__all__ = ["backtest_run_execute", "backtest_run_start"]
