"""GraphQL types of the forecasting app."""

import datetime as dt

import strawberry
import strawberry_django
from strawberry.scalars import JSON

from forecasting import models


@strawberry.type
class ForecastInterval:
    """One interval [intervalStart, intervalStart + step): the forecast value and its 80/95 % bounds."""

    interval_start: dt.datetime
    value: float | None
    lower80: float | None
    upper80: float | None
    lower95: float | None
    upper95: float | None


@strawberry.type
class ForecastResult:
    series: str
    issued_at: dt.datetime
    run_id: int
    model: str
    step_minutes: int
    intervals: list[ForecastInterval]


@strawberry_django.type(models.Series, name="ForecastSeries")
class SeriesType:
    """A forecast series; `champion` is the model in use ("seasonal_naive" when none beats it)."""

    code: str
    resolution_minutes: int
    unit: str
    zone: str
    champion: str
    no_model_beats_naive: bool
    champion_selected_at: dt.datetime | None
    champion_metrics: JSON

    @strawberry_django.field(only=["kind"])
    def kind(self) -> str:
        """The API keeps the lower-case names it has always given (`feeder`, `tariff_class`, …)."""
        return str(self.kind).lower()

    @strawberry_django.field(select_related=["weather_location"], only=["weather_location__code"])
    def weather_location(self) -> str | None:
        return self.weather_location.code if self.weather_location_id else None


@strawberry.type
class WeatherHour:
    interval_start: dt.datetime
    temperature_c: float | None
    relative_humidity_pct: float | None
    cloud_cover_pct: float | None
    wind_speed_ms: float | None
    ghi_wm2: float | None


@strawberry_django.type(models.BacktestRun, name="ForecastBacktest")
class BacktestType:
    """A backtest of a series; `result` has the keys of `forecast_backtest --json` once `status` is done."""

    id: strawberry.ID
    options: JSON
    result: JSON | None
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @strawberry_django.field(only=["status"])
    def status(self) -> str:
        """`pending`, `done` or `failed` (the API's lower-case names)."""
        return str(self.status).lower()

    @strawberry_django.field(select_related=["series"], only=["series__code"])
    def series(self) -> str:
        return self.series.code


@strawberry_django.type(models.ForecastingJob, name="ForecastJob")
class ForecastJobType:
    """A training or anomaly-detection run: `done` of `total` series finished, `result` per series code."""

    id: strawberry.ID
    options: JSON
    total: int
    done: int
    failed: int
    result: JSON
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @strawberry_django.field(only=["kind"])
    def kind(self) -> str:
        """`training` or `anomalies` (the API's lower-case names)."""
        return str(self.kind).lower()

    @strawberry_django.field(only=["status"])
    def status(self) -> str:
        """`pending`, `running`, `done` or `failed` (the API's lower-case names)."""
        return str(self.status).lower()

    @strawberry_django.field(only=["done", "total"])
    def progress(self) -> float:
        """The share of the series finished, 0–1."""
        return 1.0 if self.total == 0 else round(self.done / self.total, 4)
