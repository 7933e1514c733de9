"""GraphQL mutations of the forecasting app."""

import strawberry
import strawberry_django
from django.utils import timezone

from core.api.permissions import ScopeRequired
from forecasting.graphql.inputs import (
    ForecastAnomaliesStartInput,
    ForecastBacktestStartInput,
    ForecastTrainingStartInput,
)
from forecasting.graphql.types import BacktestType, ForecastJobType
from forecasting.services.backtest_runs import backtest_run_start
from forecasting.services.jobs import anomaly_job_start, training_job_start


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("forecasting:write")])
    def forecast_backtest_start(self, input: ForecastBacktestStartInput) -> BacktestType:
        """Start a rolling-origin backtest of a stored series; read it back with `forecastBacktest(id)`."""
        return backtest_run_start(  # type: ignore[return-value]
            series_code=input.series,
            origins_from=input.origins_from,
            origins_to=input.origins_to,
            models=input.models,
            horizon=input.horizon,
            refit_every_days=input.refit_every_days,
            now=timezone.now(),
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("forecasting:write")])
    def forecast_training_start(self, input: ForecastTrainingStartInput) -> ForecastJobType:
        """Refit the champions of some series (or all) and issue their forecasts; read the progress back
        with `forecastJob(id)`."""
        return training_job_start(  # type: ignore[return-value]
            series_codes=input.series, reselect_champion=input.reselect_champion, now=timezone.now()
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("forecasting:write")])
    def forecast_anomalies_start(self, input: ForecastAnomaliesStartInput) -> ForecastJobType:
        """Detect anomalies of some series (or all) over a period; read the progress back with
        `forecastJob(id)`; the findings are listed in admin with their reason."""
        return anomaly_job_start(  # type: ignore[return-value]
            series_codes=input.series,
            period_from=input.period_from,
            period_to=input.period_to,
            contamination=input.contamination,
            now=timezone.now(),
        )
