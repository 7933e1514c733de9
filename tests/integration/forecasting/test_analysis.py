from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from forecasting.models import Anomaly, Series, WeatherForecast
from forecasting.selectors.forecasts import forecast_frame
from forecasting.services.analysis import (
    SeriesFileError,
    anomalies_detect,
    pv_forecast_issue,
    series_import_file,
)
from forecasting.services.weather import weather_location_create
from metering.models import MeterPoint
from tests.unit.forecasting.synthetic import demand_series

pytestmark = pytest.mark.django_db


def test_a_series_imported_from_a_file_is_upserted_and_anomalies_are_stored_with_reasons(tmp_path):
    y, _ = demand_series(days=30)
    y.iloc[500] = y.iloc[500] * 5
    path = tmp_path / "load.csv"
    path.write_text("t,mw\n" + "\n".join(f"{t.isoformat()},{v:.3f}" for t, v in y.items()) + "\n")

    first = series_import_file(path=path, code="file:load", time_column="t", target_column="mw")
    again = series_import_file(path=path, code="file:load", time_column="t", target_column="mw")
    found = anomalies_detect(
        series_code="file:load",
        period_from=y.index[200].to_pydatetime(),
        period_to=y.index[-1].to_pydatetime(),
        now=datetime(2024, 1, 1, tzinfo=UTC),
    )

    assert first.rows == again.rows == 720
    assert Series.objects.get(code="file:load").resolution_minutes == 60
    assert found >= 1
    spike = Anomaly.objects.get(interval_start=y.index[500].to_pydatetime())
    assert "robust σ" in spike.reason


def test_a_bad_series_file_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "load.csv"
    path.write_text("t,mw\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,x\n")

    with pytest.raises(SeriesFileError, match="line 3"):
        series_import_file(path=path, code="file:load", time_column="t", target_column="mw")
    assert not Series.objects.exists()


def test_pv_of_a_feeder_is_forecast_from_the_irradiance_forecast():
    location = weather_location_create(code="golden", latitude=Decimal("39.74"), longitude=Decimal("-105.18"))
    for i in range(3):
        MeterPoint.objects.create(identifier=f"PV-{i}", feeder_code="F-PV", has_pv=True)
    now = datetime(2024, 6, 1, 6, tzinfo=UTC)
    for h in range(7 * 24 + 2):
        start = now + timedelta(hours=h)
        local_hour = (start.hour - 7) % 24
        ghi = max(0.0, 900 * (1 - abs(local_hour - 12.5) / 6.5)) if 6 <= local_hour <= 19 else 0.0
        WeatherForecast.objects.create(
            location=location, issued_at=now, interval_start=start, temperature_c=25.0, ghi_wm2=ghi
        )
    Series.objects.create(
        code="pv:feeder:F-PV",
        kind=Series.Kind.PV,
        resolution_minutes=60,
        weather_location=location,
        unit="kW",
    )

    pv_forecast_issue(series_code="pv:feeder:F-PV", now=now)
    frame = forecast_frame(series_code="pv:feeder:F-PV", period_from=now, period_to=now + timedelta(days=1))

    assert frame["value"].max() == pytest.approx(12 * 0.96 * 0.86, rel=0.35)  # 3 × 4 kWp, near noon
    assert frame["value"].min() == 0.0  # night
    assert (frame["upper_95"] <= 12.0).all()
    assert (frame["lower_95"] >= 0).all()


def test_aggregate_series_are_registered_once_with_their_weather():
    from forecasting.services.series import series_ensure_aggregates
    from forecasting.services.weather import weather_area_assign
    from metering.models import LoadAggregate

    at = datetime(2024, 1, 1, tzinfo=UTC)
    feeder, region = LoadAggregate.Level.FEEDER, LoadAggregate.Level.REGION
    for level, code in ((feeder, "F1"), (feeder, "F2"), (region, "north")):
        LoadAggregate.objects.create(
            level=level,
            code=code,
            interval_start=at,
            interval_end=at + timedelta(minutes=30),
            import_kwh=1,
            export_kwh=0,
            reading_count=1,
            estimated_count=0,
            updated_at=at,
        )
    weather_location_create(code="london", latitude=Decimal("51.5"), longitude=Decimal("0"))
    weather_area_assign(kind="feeder", code="F1", location_code="london")

    created = series_ensure_aggregates(zone="Europe/London", holidays="GB-ENG")
    again = series_ensure_aggregates(zone="Europe/London")

    assert sorted(created) == ["feeder:F1", "feeder:F2", "portfolio", "region:north"]
    assert again == []
    assert Series.objects.get(code="feeder:F1").weather_location.code == "london"
