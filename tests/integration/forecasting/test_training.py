from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from forecasting.models import Forecast, ModelRun, Series, SeriesValue, WeatherObservation
from forecasting.selectors.forecasts import ForecastNotFound, forecast_frame
from forecasting.selectors.sensitivity import temperature_sensitivity
from forecasting.services.training import NotEnoughHistory, series_chunks, series_forecast, series_train
from forecasting.services.weather import weather_location_create
from tests.unit.forecasting.synthetic import demand_series

pytestmark = pytest.mark.django_db
NOW = datetime(2023, 3, 20, 0, 0, tzinfo=UTC)


@pytest.fixture
def series():
    y, X = demand_series(days=90, start="2022-12-20", step_minutes=60)
    location = weather_location_create(code="synthetic", latitude=Decimal("51.5"), longitude=Decimal("0"))
    WeatherObservation.objects.bulk_create(
        WeatherObservation(location=location, interval_start=t.to_pydatetime(), temperature_c=float(v))
        for t, v in X["temperature_c"].items()
    )
    series = Series.objects.create(
        code="file:synthetic", kind=Series.Kind.FILE, resolution_minutes=60, weather_location=location
    )
    SeriesValue.objects.bulk_create(
        SeriesValue(series=series, interval_start=t.to_pydatetime(), value=float(v))
        for t, v in y.items()
        if t < NOW
    )
    return series


def test_training_selects_a_champion_stores_runs_and_issues_a_versioned_forecast(series):
    outcome = series_train(series_code=series.code, now=NOW, models=("lightgbm",))

    series.refresh_from_db()
    assert outcome.selected
    assert series.champion == "lightgbm"
    assert not series.no_model_beats_naive
    selection = ModelRun.objects.filter(series=series, purpose=ModelRun.Purpose.SELECT)
    assert sorted(selection.values_list("model", flat=True)) == ["lightgbm", "seasonal_naive"]
    run = ModelRun.objects.get(pk=outcome.run_id)
    assert run.data_hash
    assert run.fitted
    assert run.metrics["mape"] < run.metrics["seasonal_naive"]["mape"]
    assert run.trained_to == NOW

    frame = forecast_frame(series_code=series.code, period_from=NOW, period_to=NOW + timedelta(days=7))
    assert len(frame) == 168
    assert list(frame.columns) == ["value", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (frame["lower_95"] <= frame["lower_80"]).all()
    assert (frame["lower_80"] <= frame["value"]).all()
    assert (frame["value"] <= frame["upper_80"]).all()
    assert (frame["upper_80"] <= frame["upper_95"]).all()
    assert frame.attrs["run_id"] == run.pk

    later = NOW + timedelta(hours=1)
    series_forecast(series_code=series.code, now=later)
    assert Forecast.objects.filter(series=series).count() == 2
    as_of_first = forecast_frame(
        series_code=series.code, period_from=later, period_to=later + timedelta(hours=3), as_of=NOW
    )
    assert as_of_first.attrs["forecast_id"] == outcome.forecast_id
    with pytest.raises(ForecastNotFound):
        forecast_frame(
            series_code=series.code,
            period_from=NOW,
            period_to=NOW + timedelta(hours=1),
            as_of=NOW - timedelta(hours=1),
        )

    sensitivity = temperature_sensitivity(series_code=series.code)
    assert isinstance(sensitivity, float)

    again = series_train(series_code=series.code, now=NOW + timedelta(days=1), models=("lightgbm",))
    assert not again.selected


def test_a_series_without_three_weeks_of_history_is_refused(series):
    with pytest.raises(NotEnoughHistory):
        series_train(series_code=series.code, now=datetime(2022, 12, 30, tzinfo=UTC))


def test_series_are_split_into_chunks_for_the_workers(series):
    for i in range(4):
        Series.objects.create(code=f"feeder:F{i}", kind=Series.Kind.FEEDER)

    chunks = series_chunks(chunk_size=2)

    assert [len(c) for c in chunks] == [2, 2, 1]


def test_the_daily_job_fans_out_one_task_per_chunk(series, settings):
    from forecasting.tasks import forecasts_retrain_all

    settings.FORECASTING_CHUNK_SIZE = 1
    Series.objects.create(code="feeder:EMPTY", kind=Series.Kind.FEEDER)

    chunks = forecasts_retrain_all.delay(now="2022-12-30T00:00:00+00:00").get()

    assert chunks == 2
    assert not ModelRun.objects.exists()  # neither has three weeks of history before that day
