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


@strawberry.input
class ForecastTrainingStartInput:
    """Series codes to train (every active series when omitted); `reselectChampion` re-runs selection."""

    series: list[str] | None = None
    reselect_champion: bool = False


@strawberry.input
class ForecastAnomaliesStartInput:
    """Series codes to check (every active series when omitted) over [periodFrom, periodTo) (default: the
    last 30 days)."""

    series: list[str] | None = None
    period_from: dt.datetime | None = None
    period_to: dt.datetime | None = None
    contamination: float = 0.005
