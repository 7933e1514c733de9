import pandas as pd
import pytest

from forecasting.modelling.csvseries import BadSeriesFile, read_series_csv


def _write(tmp_path, text):
    path = tmp_path / "load.csv"
    path.write_text(text)
    return path


def test_naive_local_half_hours_across_the_autumn_change_become_utc(tmp_path):
    rows = ["when,load"]
    for stamp in pd.date_range("2023-10-29T00:00Z", "2023-10-29T03:30Z", freq="30min"):
        local = stamp.tz_convert("Europe/London").strftime("%Y-%m-%dT%H:%M")
        rows.append(f"{local},{stamp.minute + stamp.hour * 60}")
    data = read_series_csv(
        _write(tmp_path, "\n".join(rows)), time_column="when", target_column="load", zone="Europe/London"
    )

    assert data.step == pd.Timedelta(minutes=30)
    assert data.y.index[0] == pd.Timestamp("2023-10-29T00:00Z")
    assert list(data.y.to_numpy()) == [m * 30 for m in range(8)]
    assert data.gaps == []


def test_gaps_are_kept_as_missing_steps_and_reported(tmp_path):
    text = (
        "t,v\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,2\n2024-01-01T04:00Z,5\n"
        "2024-01-01T05:00Z,\n2024-01-01T06:00Z,7\n"
    )

    data = read_series_csv(_write(tmp_path, text), time_column="t", target_column="v")

    assert data.missing_steps == 3
    assert data.gaps == [
        (pd.Timestamp("2024-01-01T02:00Z"), pd.Timestamp("2024-01-01T04:00Z")),
        (pd.Timestamp("2024-01-01T05:00Z"), pd.Timestamp("2024-01-01T06:00Z")),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("t,v\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,abc\n", "line 3, column 'v': 'abc' is not a number"),
        ("t,v\n2024-01-01T00:00Z,1\nyesterday,2\n", "line 3, column 't'"),
        ("t,w\n2024-01-01T00:00Z,1\n", "line 1, column 'v': no column 'v'"),
        ("t,v\n2024-01-01T00:00Z,1\n2024-01-01T00:00Z,2\n", "line 3, column 't': timestamp"),
    ],
)
def test_bad_input_names_the_file_line_and_column(tmp_path, text, expected):
    path = _write(tmp_path, text)

    with pytest.raises(BadSeriesFile) as caught:
        read_series_csv(path, time_column="t", target_column="v")

    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
