"""Open-Meteo: its hourly CSV export format (the long form in data/), and its forecast and archive HTTP APIs.

Django-free: `fetch` is injected (tests pass recorded responses; the machine running them has no internet).
Every function returns a DataFrame indexed by UTC `interval_start` with the columns of `WEATHER_COLUMNS`.
"""

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

WEATHER_COLUMNS = ("temperature_c", "relative_humidity_pct", "cloud_cover_pct", "wind_speed_ms", "ghi_wm2")
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
ARCHIVE_URL = "https://archive-api.open-meteo.com/v1/archive"
HOURLY = "temperature_2m,relative_humidity_2m,cloud_cover,wind_speed_10m,shortwave_radiation"

# CSV column → (our column, factor)
CSV_COLUMNS = {
    "temperature_2m_c": ("temperature_c", 1.0),
    "relative_humidity_2m_pct": ("relative_humidity_pct", 1.0),
    "cloudcover_pct": ("cloud_cover_pct", 1.0),
    "cloud_cover_pct": ("cloud_cover_pct", 1.0),
    "windspeed_10m_kmh": ("wind_speed_ms", 1 / 3.6),
    "wind_speed_10m_kmh": ("wind_speed_ms", 1 / 3.6),
    "wind_speed_10m_ms": ("wind_speed_ms", 1.0),
    "shortwave_radiation_wm2": ("ghi_wm2", 1.0),
}
REQUIRED_CSV = ("timestamp_utc", "region", "latitude", "longitude", "temperature_2m_c")

Fetch = Callable[[str], bytes]


class OpenMeteoError(ValueError):
    """The file or the response is not in Open-Meteo's format; the message says where."""


def http_get(url: str, timeout: float = 30) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed https hosts
        body: bytes = response.read()
        return body


def read_csv(path: str | Path) -> dict[str, tuple[float, float, pd.DataFrame]]:
    """The long CSV (`timestamp_utc,region,latitude,longitude,temperature_2m_c,...`) per region code:
    (latitude, longitude, hourly frame). Raises OpenMeteoError naming file, line and column."""
    name = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as error:
        raise OpenMeteoError(f"{name}: no such file") from error
    for column in REQUIRED_CSV:
        if column not in raw.columns:
            raise OpenMeteoError(
                f"{name}, line 1, column {column!r}: missing; columns are {', '.join(raw.columns)}"
            )
    stamps = pd.to_datetime(raw["timestamp_utc"], utc=True, errors="coerce", format="ISO8601")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise OpenMeteoError(
            f"{name}, line {row + 2}, column 'timestamp_utc': "
            f"{raw['timestamp_utc'].iloc[row]!r} is not an ISO 8601 UTC timestamp"
        )
    frame = pd.DataFrame({"interval_start": stamps, "region": raw["region"].str.strip()})
    for column in ("latitude", "longitude", *[c for c in CSV_COLUMNS if c in raw.columns]):
        text = raw[column].str.strip()
        empty = text.isin(["", "nan", "NaN", "null"])
        values = pd.to_numeric(text.where(~empty), errors="coerce")
        bad = values.isna() & ~empty
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise OpenMeteoError(
                f"{name}, line {row + 2}, column {column!r}: {text.iloc[row]!r} is not a number"
            )
        if column in CSV_COLUMNS:
            target, factor = CSV_COLUMNS[column]
            frame[target] = values * factor
        else:
            frame[column] = values
    empty_region = frame["region"] == ""
    if empty_region.any():
        row = int(np.flatnonzero(empty_region.to_numpy())[0])
        raise OpenMeteoError(f"{name}, line {row + 2}, column 'region': empty")
    duplicated = frame.duplicated(["region", "interval_start"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise OpenMeteoError(
            f"{name}, line {row + 2}, column 'timestamp_utc': repeats an earlier hour of its region"
        )
    out = {}
    for region, rows in frame.groupby("region", sort=True):
        hourly = rows.set_index("interval_start").sort_index()
        hourly = hourly.reindex(columns=list(WEATHER_COLUMNS))
        out[str(region)] = (float(rows["latitude"].iloc[0]), float(rows["longitude"].iloc[0]), hourly)
    return out


def _url(base: str, latitude: float, longitude: float, **extra: str) -> str:
    query = {
        "latitude": f"{latitude:.4f}",
        "longitude": f"{longitude:.4f}",
        "hourly": HOURLY,
        "timezone": "UTC",
        "wind_speed_unit": "ms",
        **extra,
    }
    return f"{base}?{urllib.parse.urlencode(query)}"


def forecast_url(latitude: float, longitude: float, *, days: int = 7) -> str:
    return _url(FORECAST_URL, latitude, longitude, forecast_days=str(days))


def archive_url(latitude: float, longitude: float, *, start: date, end: date) -> str:
    return _url(ARCHIVE_URL, latitude, longitude, start_date=start.isoformat(), end_date=end.isoformat())


def parse_response(body: bytes) -> pd.DataFrame:
    """An Open-Meteo JSON response (`hourly.time` in UTC, metric units, wind in m/s) as an hourly frame."""
    try:
        data = json.loads(body)
        hourly = data["hourly"]
        times = pd.to_datetime(hourly["time"], utc=True, format="ISO8601")
    except (ValueError, KeyError, TypeError) as error:
        raise OpenMeteoError(f"not an Open-Meteo hourly response: {error}") from error
    if data.get("error"):
        raise OpenMeteoError(f"Open-Meteo refused the request: {data.get('reason')}")
    units = data.get("hourly_units", {})
    wind_factor = 1 / 3.6 if units.get("wind_speed_10m") == "km/h" else 1.0
    mapping = {
        "temperature_2m": ("temperature_c", 1.0),
        "relative_humidity_2m": ("relative_humidity_pct", 1.0),
        "cloud_cover": ("cloud_cover_pct", 1.0),
        "wind_speed_10m": ("wind_speed_ms", wind_factor),
        "shortwave_radiation": ("ghi_wm2", 1.0),
    }
    frame = pd.DataFrame(index=pd.DatetimeIndex(times, name="interval_start"))
    for source, (target, factor) in mapping.items():
        values = hourly.get(source)
        frame[target] = (
            np.asarray([np.nan if v is None else v for v in values], dtype=float) * factor
            if values is not None
            else np.nan
        )
    return frame


def fetch_forecast(
    latitude: float, longitude: float, *, days: int = 7, fetch: Fetch = http_get
) -> pd.DataFrame:
    return parse_response(fetch(forecast_url(latitude, longitude, days=days)))


def fetch_archive(
    latitude: float, longitude: float, *, start: date, end: date, fetch: Fetch = http_get
) -> pd.DataFrame:
    return parse_response(fetch(archive_url(latitude, longitude, start=start, end=end)))
