"""GraphQL inputs of the forecasting app."""

import datetime as dt

import strawberry


@strawberry.input
class ForecastBacktestStartInput:
    series: str
    origins_from: dt.date
    origins_to: dt.date
    models: str = "auto"
    horizon: int | None = None
    refit_every_days: float = 7
