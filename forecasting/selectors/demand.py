"""What pricing reads about demand: the stored forecast of a region, else a recent-average baseline."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from forecasting.modelling.baseline import average_load_by_slot
from forecasting.selectors.forecasts import ForecastNotFound, forecast_frame

BASELINE_LOOKBACK_DAYS = 28


def demand_forecast_by_start(
    *, series_code: str, period_from: datetime, period_to: datetime, as_of: datetime | None = None
) -> tuple[dict[datetime, Decimal], str] | None:
    """{interval_start: kWh} of the latest forecast issued at or before `as_of`, with a label naming the
    forecast run ("forecast run 12 (lightgbm) issued 2026-12-03T09:00Z"); None when no forecast covers it."""
    try:
        frame = forecast_frame(
            series_code=series_code, period_from=period_from, period_to=period_to, as_of=as_of
        )
    except ForecastNotFound:
        return None
    values = {
        start.to_pydatetime(): Decimal(str(round(float(value), 4)))
        for start, value in frame["value"].items()
        if value == value  # not NaN
    }
    issued = frame.attrs["issued_at"].strftime("%Y-%m-%dT%H:%MZ")
    return values, f"forecast run {frame.attrs['run_id']} ({frame.attrs['model']}) issued {issued}"


def demand_baseline_by_slot(
    *, region_code: str, zone: ZoneInfo, before: date, day_start: datetime
) -> dict[tuple[int, int], tuple[Decimal, str]]:
    """The 7-day average net load of a region per local slot (metering aggregates before `day_start`)."""
    from metering.selectors.aggregates import load_aggregate_totals

    rows = load_aggregate_totals(
        level="region",
        code=region_code,
        period_start=day_start - timedelta(days=BASELINE_LOOKBACK_DAYS),
        period_end=day_start,
    )
    return average_load_by_slot(rows, zone=zone, before=before)
