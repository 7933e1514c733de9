"""Forecasting GraphQL operations: permission matrices, forecasts as of an issue time, weather, backtests."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from forecasting.models import BacktestRun, Forecast, ModelRun, Series, SeriesValue, WeatherObservation
from forecasting.services.backtest_runs import backtest_run_execute
from forecasting.services.weather import weather_location_create
from tests.conftest import WRITE_MATRIX, error_codes
from tests.unit.forecasting.synthetic import demand_series

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, tzinfo=UTC)
READ_MATRIX = [
    ("anonymous", "UNAUTHENTICATED"),
    ("bad_token", "UNAUTHENTICATED"),
    ("other", "FORBIDDEN"),
    ("customer", "FORBIDDEN"),
    ("write", "FORBIDDEN"),
    ("read", None),
    ("staff", None),
]
FORECAST = """query($series: String!, $from: DateTime!, $to: DateTime!, $asOf: DateTime) {
  forecast(series: $series, periodFrom: $from, periodTo: $to, asOf: $asOf) {
    series issuedAt runId model stepMinutes
    intervals { intervalStart value lower80 upper80 lower95 upper95 } } }"""
SERIES = "{ forecastSeries { code kind champion noModelBeatsNaive weatherLocation } }"
WEATHER = """query($from: DateTime!, $to: DateTime!) {
  weather(location: "london", periodFrom: $from, periodTo: $to) { intervalStart temperatureC ghiWm2 } }"""
START = """mutation($input: ForecastBacktestStartInput!) { forecastBacktestStart(input: $input) {
  ... on ForecastBacktest { id status series options }
  ... on OperationInfo { messages { code field message } } } }"""
RESULT = "query($id: ID!) { forecastBacktest(id: $id) { status series result error } }"


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "read": ("forecasting:read",),
            "write": ("forecasting:write",),
            "other": ("pricing:read", "pricing:write"),
        },
    )


@pytest.fixture
def feeder():
    location = weather_location_create(code="london", latitude=Decimal("51.5"), longitude=Decimal("-0.12"))
    series = Series.objects.create(
        code="feeder:F1", kind=Series.Kind.FEEDER, resolution_minutes=60, weather_location=location
    )
    for issued, level in ((T0 - timedelta(hours=2), 10.0), (T0 - timedelta(hours=1), 20.0)):
        run = ModelRun.objects.create(
            series=series,
            model="lightgbm",
            trained_from=issued - timedelta(days=30),
            trained_to=issued,
            data_hash="h",
            created_at=issued,
        )
        values = [level] * 48
        Forecast.objects.create(
            series=series,
            run=run,
            issued_at=issued,
            period_from=T0,
            period_to=T0 + timedelta(hours=48),
            step_minutes=60,
            value=values,
            lower_80=[v - 1 for v in values],
            upper_80=[v + 1 for v in values],
            lower_95=[v - 2 for v in values],
            upper_95=[v + 2 for v in values],
        )
    WeatherObservation.objects.create(location=location, interval_start=T0, temperature_c=4.5)
    return series


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_forecast_permissions_and_as_of(feeder, caller, denied):
    variables = {"series": "feeder:F1", "from": T0.isoformat(), "to": (T0 + timedelta(hours=3)).isoformat()}

    latest = caller(FORECAST, variables)
    earlier = caller(FORECAST, {**variables, "asOf": (T0 - timedelta(minutes=90)).isoformat()})

    if denied:
        assert error_codes(latest) == [denied]
        return
    forecast = latest["data"]["forecast"]
    assert forecast["model"] == "lightgbm"
    assert forecast["stepMinutes"] == 60
    assert forecast["intervals"][0] == {
        "intervalStart": "2026-01-05T00:00:00+00:00",
        "value": 20.0,
        "lower80": 19.0,
        "upper80": 21.0,
        "lower95": 18.0,
        "upper95": 22.0,
    }
    assert len(forecast["intervals"]) == 3
    assert earlier["data"]["forecast"]["intervals"][0]["value"] == 10.0


def test_a_forecast_that_does_not_exist_is_a_clear_error(feeder, gql_as, staff):
    result = gql_as(staff)(
        FORECAST, {"series": "feeder:F1", "from": T0.isoformat(), "to": (T0 + timedelta(days=3)).isoformat()}
    )

    assert error_codes(result) == ["NOT_FOUND"]
    assert "no forecast of 'feeder:F1'" in result["errors"][0]["message"]


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_series_list_and_weather_permissions(feeder, caller, denied):
    series = caller(SERIES)
    weather = caller(WEATHER, {"from": T0.isoformat(), "to": (T0 + timedelta(hours=2)).isoformat()})

    if denied:
        assert error_codes(series) == [denied]
        assert error_codes(weather) == [denied]
        return
    assert series["data"]["forecastSeries"] == [
        {
            "code": "feeder:F1",
            "kind": "feeder",
            "champion": "",
            "noModelBeatsNaive": False,
            "weatherLocation": "london",
        }
    ]
    assert weather["data"]["weather"] == [
        {"intervalStart": "2026-01-05T00:00:00+00:00", "temperatureC": 4.5, "ghiWm2": None},
        {"intervalStart": "2026-01-05T01:00:00+00:00", "temperatureC": None, "ghiWm2": None},
    ]


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_backtest_start_permissions(feeder, caller, denied):
    result = caller(
        START, {"input": {"series": "feeder:F1", "originsFrom": "2026-01-01", "originsTo": "2026-01-03"}}
    )

    if denied:
        assert error_codes(result) == [denied]
        assert not BacktestRun.objects.exists()
    else:
        started = result["data"]["forecastBacktestStart"]
        assert started["status"] == "pending"
        assert started["options"]["models"] == ["prophet", "lightgbm"]


def test_a_backtest_with_bad_options_changes_nothing(feeder, gql_as, staff):
    result = gql_as(staff)(
        START, {"input": {"series": "feeder:F1", "originsFrom": "2026-01-03", "originsTo": "2026-01-01"}}
    )

    assert result["data"]["forecastBacktestStart"]["messages"][0]["field"] == "originsFrom"
    assert not BacktestRun.objects.exists()


def test_a_started_backtest_is_run_by_the_worker_and_read_back(
    gql_as, staff, django_capture_on_commit_callbacks
):
    y, _ = demand_series(days=40, start="2025-12-01")
    series = Series.objects.create(code="file:load", kind=Series.Kind.FILE, resolution_minutes=60)
    SeriesValue.objects.bulk_create(
        SeriesValue(series=series, interval_start=t, value=float(v)) for t, v in y.items()
    )
    client = gql_as(staff)

    with django_capture_on_commit_callbacks(execute=True):
        started = client(
            START,
            {
                "input": {
                    "series": "file:load",
                    "originsFrom": "2026-01-01",
                    "originsTo": "2026-01-04",
                    "models": "lightgbm",
                    "refitEveryDays": 14,
                }
            },
        )["data"]["forecastBacktestStart"]
    backtest_run_execute(pk=int(started["id"]), now=T0)  # already done by the eager task: changes nothing
    result = client(RESULT, {"id": started["id"]})["data"]["forecastBacktest"]

    assert result["status"] == "done", result["error"]
    assert result["series"] == "file:load"
    assert result["result"]["origins"] == 3
    assert result["result"]["models"][0]["name"] == "lightgbm"
    assert set(result["result"]["seasonal_naive"]) == {"mape", "rmse"}
