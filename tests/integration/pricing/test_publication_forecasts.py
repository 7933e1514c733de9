"""Dynamic prices read the stored demand forecast and the weather forecast (forecasting app)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from forecasting.models import Forecast, ModelRun, Series, WeatherForecast
from forecasting.services.weather import weather_area_assign, weather_location_create
from pricing.models import PublishedRate
from tests.integration.pricing.test_publication import (
    BERLIN,
    DAY,
    NOW,
    make_dynamic_tariff,
    make_prices,
    publish,
)

pytestmark = pytest.mark.django_db
DEMAND = {
    "kind": "demand",
    "region": "north",
    "capacity_kwh": "100",
    "threshold": "0.5",
    "per_kwh_at_full": "0.10",
}
WEATHER = {"kind": "weather", "normal_c": "15", "per_kwh_per_degree": "0.01"}


def _stored_forecast(kwh: float, issued_at: datetime) -> Forecast:
    series = Series.objects.create(code="region:north", kind=Series.Kind.REGION, resolution_minutes=30)
    run = ModelRun.objects.create(
        series=series,
        model="lightgbm",
        trained_from=issued_at - timedelta(days=60),
        trained_to=issued_at,
        data_hash="x",
        created_at=issued_at,
    )
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=BERLIN).astimezone(UTC)
    values = [kwh] * 96
    return Forecast.objects.create(
        series=series,
        run=run,
        issued_at=issued_at,
        period_from=start,
        period_to=start + timedelta(days=2),
        step_minutes=30,
        value=values,
        lower_80=values,
        upper_80=values,
        lower_95=values,
        upper_95=values,
    )


def test_the_demand_rule_reads_the_stored_forecast_and_names_its_run():
    make_dynamic_tariff(rules=[{"kind": "market"}, DEMAND])
    make_prices()
    forecast = _stored_forecast(80.0, issued_at=NOW - timedelta(hours=1))

    publish()

    rate = PublishedRate.objects.order_by("interval_start").first()
    assert rate.breakdown[1]["per_kwh"] == "0.060000"  # (0.80 − 0.5) / 0.5 × 0.10
    assert f"forecast run {forecast.run_id} (lightgbm) issued" in rate.breakdown[1]["note"]


def test_a_forecast_issued_after_publication_time_is_not_used():
    make_dynamic_tariff(rules=[{"kind": "market"}, DEMAND])
    make_prices()
    _stored_forecast(80.0, issued_at=NOW + timedelta(hours=1))

    publish()

    rate = PublishedRate.objects.order_by("interval_start").first()
    assert rate.breakdown[1]["note"] == "no load data for region north"


def test_the_weather_rule_reads_the_weather_forecast_of_the_regions_location():
    make_dynamic_tariff(rules=[{"kind": "market"}, DEMAND, WEATHER])
    make_prices()
    location = weather_location_create(code="berlin", latitude=Decimal("52.5"), longitude=Decimal("13.4"))
    weather_area_assign(kind="region", code="north", location_code="berlin")
    six = datetime(2024, 1, 15, 6, 0, tzinfo=UTC)
    WeatherForecast.objects.create(location=location, issued_at=NOW, interval_start=six, temperature_c=-5.0)

    publish()

    rate = PublishedRate.objects.get(interval_start=six)
    assert rate.breakdown[2] == {
        "rule": "weather",
        "per_kwh": "0.200000",
        "note": "-5.0 °C vs normal 15 °C (below)",
    }
