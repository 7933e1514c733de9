"""Staff see series with champion and metrics, runs, and a forecast-vs-actual chart with its bands."""

from datetime import timedelta

import pytest

from forecasting.models import Forecast, Series, SeriesValue
from tests.functional.forecasting.test_forecast_operations import T0, feeder  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_series_page_shows_champion_metrics_and_the_chart(staff_client, feeder):  # noqa: F811
    feeder.champion = "lightgbm"
    feeder.champion_metrics = {
        "models": [
            {
                "name": "lightgbm",
                "mape": 2.4,
                "rmse": 10.0,
                "mase": 0.5,
                "coverage_80": 0.81,
                "coverage_95": 0.95,
                "fit_seconds_median": 0.3,
            }
        ],
        "seasonal_naive": {"mape": 5.0, "rmse": 20.0},
    }
    feeder.save()
    feeder.kind = Series.Kind.FILE
    feeder.save()
    SeriesValue.objects.create(series=feeder, interval_start=T0, value=19.5)

    listing = staff_client.get("/admin/forecasting/series/")
    page = staff_client.get(f"/admin/forecasting/series/{feeder.pk}/change/")

    assert listing.status_code == 200
    assert b"feeder:F1" in listing.content
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert b"80 % band" in page.content
    assert b"2.4" in page.content


def test_forecast_and_run_pages_render(staff_client, feeder):  # noqa: F811
    forecast = Forecast.objects.order_by("-issued_at").first()

    assert staff_client.get(f"/admin/forecasting/forecast/{forecast.pk}/change/").status_code == 200
    assert staff_client.get("/admin/forecasting/modelrun/").status_code == 200
    assert staff_client.get("/admin/forecasting/weatherobservation/").status_code == 200
    assert forecast.period_to - forecast.period_from == timedelta(hours=48)
