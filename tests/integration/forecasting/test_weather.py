from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from forecasting.adapters import open_meteo
from forecasting.models import WeatherForecast, WeatherLocation, WeatherObservation
from forecasting.selectors.weather import weather_frame, weather_location_for_area
from forecasting.services.weather import (
    WeatherFileError,
    weather_area_assign,
    weather_forecast_fetch,
    weather_import_file,
    weather_location_create,
)

pytestmark = pytest.mark.django_db
RECORDED = Path(__file__).parents[2] / "fixtures" / "open_meteo" / "forecast_london_2days.json"
CSV = (
    "timestamp_utc,region,latitude,longitude,temperature_2m_c,relative_humidity_2m_pct,cloudcover_pct,"
    "windspeed_10m_kmh,time_as_published,source_fixed_utc_offset_s\n"
    "2020-01-01T00:00:00Z,US-TEX-ERCO,29.76,-95.37,10.5,80,20,18.0,2019-12-31T18:00,-21600\n"
    "2020-01-01T01:00:00Z,US-TEX-ERCO,29.76,-95.37,10.1,82,25,14.4,2019-12-31T19:00,-21600\n"
    "2020-01-01T00:00:00Z,US-NY-NYIS,42.65,-73.75,-2.0,70,90,7.2,2019-12-31T19:00,-18000\n"
)


def test_open_meteo_csv_is_imported_once_with_locations_and_units(tmp_path):
    path = tmp_path / "weather.csv"
    path.write_text(CSV)

    first = weather_import_file(path=path)
    again = weather_import_file(path=path)

    assert sorted(first.locations_created) == ["US-NY-NYIS", "US-TEX-ERCO"]
    assert (first.created, first.unchanged) == (3, 0)
    assert (again.created, again.unchanged, again.locations_created) == (0, 3, [])
    texas = WeatherObservation.objects.get(
        location__code="US-TEX-ERCO", interval_start=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert texas.temperature_c == 10.5
    assert texas.wind_speed_ms == pytest.approx(5.0)
    assert texas.ghi_wm2 is None


def test_a_bad_cell_refuses_the_whole_file_naming_line_and_column(tmp_path):
    path = tmp_path / "weather.csv"
    path.write_text(CSV.replace("-2.0,70", "cold,70"))

    with pytest.raises(WeatherFileError) as caught:
        weather_import_file(path=path)

    assert "line 4, column 'temperature_2m_c': 'cold' is not a number" in caught.value.messages[0]
    assert not WeatherObservation.objects.exists()
    assert not WeatherLocation.objects.exists()


def test_forecast_fetch_stores_a_recorded_open_meteo_response_by_issue_time():
    weather_location_create(
        code="london", latitude=Decimal("51.5"), longitude=Decimal("-0.12"), zone="Europe/London"
    )
    urls = []

    def recorded(url: str) -> bytes:
        urls.append(url)
        return RECORDED.read_bytes()

    now = datetime(2026, 12, 3, 9, 41, tzinfo=UTC)
    stored = weather_forecast_fetch(location_code="london", now=now, fetch=recorded)
    repeated = weather_forecast_fetch(location_code="london", now=now.replace(minute=55), fetch=recorded)

    assert "api.open-meteo.com/v1/forecast" in urls[0]
    assert "latitude=51.5000" in urls[0]
    assert (stored, repeated) == (48, 0)
    first = WeatherForecast.objects.order_by("interval_start").first()
    assert first.issued_at == datetime(2026, 12, 3, 9, tzinfo=UTC)
    assert first.ghi_wm2 == 0.0
    assert WeatherForecast.objects.order_by("interval_start").last().cloud_cover_pct is None


def test_a_response_that_is_not_open_meteo_is_an_error():
    with pytest.raises(open_meteo.OpenMeteoError):
        open_meteo.parse_response(b'{"error": true, "reason": "bad latitude"}')


def test_weather_frame_prefers_observations_then_the_forecast_known_as_of():
    location = weather_location_create(code="london", latitude=Decimal("51.5"), longitude=Decimal("-0.12"))
    h = lambda hour: datetime(2026, 12, 3, hour, tzinfo=UTC)  # noqa: E731
    WeatherObservation.objects.create(location=location, interval_start=h(0), temperature_c=5.0)
    for issued, temp in ((h(0), 7.0), (h(2), 9.0)):
        for hour in range(0, 4):
            WeatherForecast.objects.create(
                location=location, issued_at=issued, interval_start=h(hour), temperature_c=temp
            )

    latest = weather_frame(location_code="london", period_from=h(0), period_to=h(4))
    as_of_one = weather_frame(location_code="london", period_from=h(0), period_to=h(4), as_of=h(1))

    assert list(latest["temperature_c"]) == [5.0, 9.0, 9.0, 9.0]
    assert list(as_of_one["temperature_c"]) == [5.0, 7.0, 7.0, 7.0]
    assert latest["ghi_wm2"].isna().all()
    assert str(latest.index.tz) == "UTC"


def test_feeders_map_to_a_weather_location():
    weather_location_create(code="london", latitude=Decimal("51.5"), longitude=Decimal("-0.12"))

    weather_area_assign(kind="feeder", code="F1", location_code="london")

    assert weather_location_for_area(kind="feeder", code="F1").code == "london"
    assert weather_location_for_area(kind="feeder", code="F2") is None
