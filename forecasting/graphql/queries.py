"""GraphQL queries of the forecasting app."""

import datetime as dt
import math

import strawberry
import strawberry_django

from core.api.errors import api_error, not_found
from core.api.permissions import ScopeRequired
from core.errors import BAD_USER_INPUT
from core.periods import check_period
from forecasting.graphql.types import (
    BacktestType,
    ForecastInterval,
    ForecastJobType,
    ForecastResult,
    SeriesType,
    WeatherHour,
)
from forecasting.selectors.forecasts import backtest_run_get, forecast_frame, forecasting_job_get, series_list
from forecasting.selectors.weather import weather_frame

MAX_PERIOD = dt.timedelta(days=31)


def _period(period_from: dt.datetime, period_to: dt.datetime) -> None:
    check_period(
        period_from,
        period_to,
        fields=("periodFrom", "periodTo"),
        longest=MAX_PERIOD,
        error=lambda message, field: api_error(message, BAD_USER_INPUT, field=field),
    )


def _f(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


@strawberry.type
class Query:
    @strawberry.field(extensions=[ScopeRequired("forecasting:read")])
    def forecast(
        self, series: str, period_from: dt.datetime, period_to: dt.datetime, as_of: dt.datetime | None = None
    ) -> ForecastResult:
        """The forecast of `series` over [periodFrom, periodTo) issued at or before `asOf` (or latest)."""
        _period(period_from, period_to)
        frame = forecast_frame(series_code=series, period_from=period_from, period_to=period_to, as_of=as_of)
        return ForecastResult(
            series=series,
            issued_at=frame.attrs["issued_at"],
            run_id=frame.attrs["run_id"],
            model=frame.attrs["model"],
            step_minutes=int((frame.index[1] - frame.index[0]).total_seconds() // 60)
            if len(frame) > 1
            else 0,
            intervals=[
                ForecastInterval(
                    interval_start=start.to_pydatetime(),
                    value=_f(row.value),
                    lower80=_f(row.lower_80),
                    upper80=_f(row.upper_80),
                    lower95=_f(row.lower_95),
                    upper95=_f(row.upper_95),
                )
                for start, row in zip(frame.index, frame.itertuples(), strict=True)
            ],
        )

    @strawberry_django.field(extensions=[ScopeRequired("forecasting:read")])
    def forecast_series(self, kind: str | None = None) -> list[SeriesType]:
        return series_list(kind=kind)  # type: ignore[return-value]

    @strawberry.field(extensions=[ScopeRequired("forecasting:read")])
    def weather(
        self,
        location: str,
        period_from: dt.datetime,
        period_to: dt.datetime,
        as_of: dt.datetime | None = None,
    ) -> list[WeatherHour]:
        """Hourly weather: observations where they exist, else the forecast issued at or before `asOf`."""
        _period(period_from, period_to)
        frame = weather_frame(
            location_code=location, period_from=period_from, period_to=period_to, as_of=as_of
        )
        return [
            WeatherHour(
                interval_start=start.to_pydatetime(),
                temperature_c=_f(row.temperature_c),
                relative_humidity_pct=_f(row.relative_humidity_pct),
                cloud_cover_pct=_f(row.cloud_cover_pct),
                wind_speed_ms=_f(row.wind_speed_ms),
                ghi_wm2=_f(row.ghi_wm2),
            )
            for start, row in zip(frame.index, frame.itertuples(), strict=True)
        ]

    @strawberry.field(extensions=[ScopeRequired("forecasting:read")])
    def forecast_backtest(self, id: strawberry.ID) -> BacktestType | None:
        run = backtest_run_get(pk=int(id)) if str(id).isdigit() else None
        if run is None:
            raise not_found(f"No backtest {id}.", field="id")
        return run  # type: ignore[return-value]

    @strawberry.field(extensions=[ScopeRequired("forecasting:read")])
    def forecast_job(self, id: strawberry.ID) -> ForecastJobType | None:
        """A training or anomaly-detection run: status, progress and the outcome per series."""
        job = forecasting_job_get(pk=int(id)) if str(id).isdigit() else None
        if job is None:
            raise not_found(f"No forecasting job {id}.", field="id")
        return job  # type: ignore[return-value]
