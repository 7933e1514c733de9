"""GraphQL mutations of the forecasting app."""

import strawberry
import strawberry_django
from django.utils import timezone

from core.api.permissions import ScopeRequired
from forecasting.graphql.inputs import ForecastBacktestStartInput
from forecasting.graphql.types import BacktestType
from forecasting.services.backtest_runs import backtest_run_start


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
