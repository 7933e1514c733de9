import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.unit.forecasting.synthetic import demand_series


@pytest.fixture
def load_csv(tmp_path):
    y, X = demand_series(days=75, step_minutes=30)
    local = y.index.tz_convert("Europe/London").strftime("%Y-%m-%dT%H:%M:%S%z")
    path = tmp_path / "system_load.csv"
    lines = ["time,load_mw,temp"] + [
        f"{stamp[:-2]}:{stamp[-2:]},{value:.3f},{t:.2f}"
        for stamp, value, t in zip(local, y.to_numpy(), X["temperature_c"].to_numpy(), strict=True)
    ]
    del lines[500:504]  # a two-hour gap
    path.write_text("\n".join(lines) + "\n")
    return path


def test_json_prints_one_object_on_stdout_and_progress_on_stderr(load_csv, capsys):
    out = io.StringIO()

    call_command(
        "forecast_backtest",
        str(load_csv),
        "--time-column",
        "time",
        "--target-column",
        "load_mw",
        "--regressor-column",
        "temp",
        "--timezone",
        "Europe/London",
        "--holidays",
        "GB-ENG",
        "--horizon",
        "48",
        "--origins-from",
        "2023-03-06",
        "--origins-to",
        "2023-03-13",
        "--models",
        "lightgbm",
        "--refit-every",
        "14",
        "--json",
        stdout=out,
    )

    report = json.loads(out.getvalue())
    assert set(report) == {"resolution_minutes", "origins", "horizon", "models", "seasonal_naive", "champion"}
    assert report["resolution_minutes"] == 30
    assert report["origins"] == 7
    assert report["horizon"] == 48
    (model,) = report["models"]
    assert set(model) == {
        "name",
        "mape",
        "rmse",
        "mase",
        "pinball_80",
        "coverage_80",
        "coverage_95",
        "fit_seconds_median",
    }
    assert set(report["seasonal_naive"]) == {"mape", "rmse"}
    assert report["champion"] == "lightgbm"
    assert "gap" in capsys.readouterr().err


def test_bad_input_is_one_line_naming_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,load\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,lots\n")

    with pytest.raises(CommandError) as caught:
        call_command("forecast_backtest", str(path), "--time-column", "time", "--target-column", "load")

    assert str(caught.value) == f"{path}, line 3, column 'load': 'lots' is not a number"


def test_unknown_model_is_refused(load_csv):
    with pytest.raises(CommandError, match="unknown model"):
        call_command(
            "forecast_backtest",
            str(load_csv),
            "--time-column",
            "time",
            "--target-column",
            "load_mw",
            "--models",
            "arima",
        )
