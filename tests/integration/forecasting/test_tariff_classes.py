"""Tariff-class load imported from a long CSV becomes one `tariff_class:<CLASS>` series per class, which the
daily job trains and forecasts like any aggregate; a bad cell refuses the whole file."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forecasting.models import Series, SeriesValue, WeatherObservation
from forecasting.selectors.forecasts import forecast_frame
from forecasting.services.tariff_classes import TariffClassFileError, tariff_class_values_import
from forecasting.services.training import series_chunks, series_train
from forecasting.services.weather import weather_location_create
from tests.unit.forecasting.synthetic import demand_series

pytestmark = pytest.mark.django_db
NOW = datetime(2023, 3, 20, tzinfo=UTC)


def _write(path, rows: list[tuple[str, str, str]]) -> None:
    path.write_text("interval_start,tariff_class,kwh\n" + "".join(f"{t},{c},{v}\n" for t, c, v in rows))


@pytest.fixture
def classes_file(tmp_path):
    """Hourly load of two tariff classes (standard at full scale, EV at a quarter) from 20 Dec 2022."""
    y, X = demand_series(days=90, start="2022-12-20")
    rows = []
    for t, v in y[y.index < NOW].items():
        rows.append((t.isoformat(), "standard", f"{v:.3f}"))
        rows.append((t.isoformat(), " EV ", f"{v / 4:.3f}"))
    path = tmp_path / "classes.csv"
    _write(path, rows)
    return path, y, X


def test_each_class_becomes_a_series_and_a_reimport_changes_nothing(classes_file):
    path, y, _ = classes_file

    first = tariff_class_values_import(path=path, zone="Europe/London", holidays="GB-ENG")
    again = tariff_class_values_import(path=path, zone="Europe/London", holidays="GB-ENG")

    assert sorted(first.created) == ["tariff_class:EV", "tariff_class:standard"]
    assert again.created == []
    assert [(s.series_code, s.rows) for s in again.series] == [
        ("tariff_class:EV", 2160),
        ("tariff_class:standard", 2160),
    ]
    ev = Series.objects.get(code="tariff_class:EV")
    assert (ev.kind, ev.resolution_minutes, ev.zone, ev.holidays) == (
        Series.Kind.TARIFF_CLASS,
        60,
        "Europe/London",
        "GB-ENG",
    )
    assert SeriesValue.objects.filter(series=ev).count() == 2160
    first_value = SeriesValue.objects.get(series=ev, interval_start=y.index[0].to_pydatetime()).value
    assert first_value == pytest.approx(y.iloc[0] / 4, abs=1e-3)
    assert any("tariff_class:EV" in chunk for chunk in series_chunks(chunk_size=25))


def test_a_bad_cell_refuses_the_whole_file_naming_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    _write(
        path,
        [
            ("2024-01-01T00:00Z", "standard", "10"),
            ("2024-01-01T01:00Z", "standard", "11"),
            ("2024-01-01T00:00Z", "E7", "4"),
            ("2024-01-01T01:00Z", "E7", "lots"),
        ],
    )

    with pytest.raises(TariffClassFileError) as refused:
        tariff_class_values_import(path=path)

    assert len(refused.value.messages) == 1
    assert refused.value.messages[0].endswith("bad.csv, line 5, column 'kwh': 'lots' is not a number")
    assert not Series.objects.exists()
    assert not SeriesValue.objects.exists()


def test_the_command_imports_and_reports_per_class(tmp_path):
    weather_location_create(code="london", latitude=Decimal("51.5"), longitude=Decimal("-0.1"))
    path = tmp_path / "c.csv"
    path.write_text(
        "start,class,load\n2024-01-01T00:00Z,E7,1.5\n2024-01-01T00:30Z,E7,1.25\n2024-01-01T01:00Z,E7,1\n"
        "2024-01-01T02:00Z,E7,2\n"
    )
    out = StringIO()

    call_command(
        "tariff_class_import",
        str(path),
        "--time-column=start",
        "--class-column=class",
        "--value-column=load",
        "--weather-location=london",
        stdout=out,
    )

    assert out.getvalue() == "tariff_class:E7 (new series): 4 values, 1 missing in 1 gap(s)\n"
    series = Series.objects.get(code="tariff_class:E7")
    assert series.resolution_minutes == 30
    assert series.weather_location.code == "london"
    with pytest.raises(CommandError, match="no weather location 'nowhere'"):
        call_command("tariff_class_import", str(path), "--weather-location=nowhere", stdout=out)


def test_an_imported_class_is_trained_and_forecast(classes_file):
    path, _, X = classes_file
    location = weather_location_create(code="synthetic", latitude=Decimal("51.5"), longitude=Decimal("0"))
    WeatherObservation.objects.bulk_create(
        WeatherObservation(location=location, interval_start=t.to_pydatetime(), temperature_c=float(v))
        for t, v in X["temperature_c"].items()
    )
    tariff_class_values_import(path=path, weather_location_code="synthetic")

    outcome = series_train(series_code="tariff_class:EV", now=NOW, models=("lightgbm",))

    assert outcome.model == "lightgbm"
    frame = forecast_frame(series_code="tariff_class:EV", period_from=NOW, period_to=NOW + timedelta(days=7))
    assert len(frame) == 168
    assert 100 < frame["value"].mean() < 600  # a quarter of the synthetic ~1,000–1,600 kWh level
