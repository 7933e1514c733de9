"""Weather: import Open-Meteo CSV files, fetch Open-Meteo forecasts and archives, map areas to locations."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import transaction

from core.errors import NOT_FOUND, DomainError
from forecasting.adapters import open_meteo
from forecasting.models import WeatherArea, WeatherForecast, WeatherLocation, WeatherObservation

FIELDS = list(open_meteo.WEATHER_COLUMNS)


class WeatherFileError(DomainError, code="bad_weather_file"): ...


class UnknownWeatherLocation(DomainError, code=NOT_FOUND): ...


@dataclass
class WeatherImport:
    locations_created: list[str]
    rows: int
    created: int
    unchanged: int


def _rows(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(float).replace({np.nan: None})
    return [
        {"interval_start": start.to_pydatetime(), **{f: row[f] for f in FIELDS}}
        for start, row in zip(clean.index, clean.to_dict("records"), strict=True)
    ]


def _upsert(model, location: WeatherLocation, rows: list[dict], *, source: str, **extra) -> tuple[int, int]:
    """Insert or update (idempotent). Returns (created or changed, unchanged)."""
    keys = ["location", "interval_start", *extra]
    existing = {
        o.interval_start: o
        for o in model.objects.filter(
            location=location,
            interval_start__in=[r["interval_start"] for r in rows],
            **extra,
        )
    }
    fresh, unchanged = [], 0
    for row in rows:
        old = existing.get(row["interval_start"])
        if old is not None and all(_same(getattr(old, f), row[f]) for f in FIELDS):
            unchanged += 1
            continue
        fresh.append(model(location=location, source=source, **extra, **row))
    model.objects.bulk_create(
        fresh, batch_size=2000, update_conflicts=True, unique_fields=keys, update_fields=[*FIELDS, "source"]
    )
    return len(fresh), unchanged


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-9


@transaction.atomic
def weather_import_file(*, path: Path, progress: Callable[[str], None] | None = None) -> WeatherImport:
    """Import observations from an Open-Meteo hourly CSV (long form, one `region` per location code).

    Creates missing locations from the file's coordinates; re-importing changes nothing. Any bad row
    refuses the whole file (nothing written)."""
    try:
        regions = open_meteo.read_csv(path)
    except open_meteo.OpenMeteoError as error:
        raise WeatherFileError(str(error), field="file") from error
    created_locations, created, unchanged, total = [], 0, 0, 0
    for code, (lat, lon, frame) in regions.items():
        location, new = WeatherLocation.objects.get_or_create(
            code=code[:32],
            defaults={"latitude": Decimal(f"{lat:.6f}"), "longitude": Decimal(f"{lon:.6f}"), "name": code},
        )
        if new:
            created_locations.append(location.code)
        rows = _rows(frame)
        c, u = _upsert(WeatherObservation, location, rows, source="open-meteo-csv")
        created, unchanged, total = created + c, unchanged + u, total + len(rows)
        if progress:
            progress(f"{code}: {len(rows):,} hours ({c:,} new or changed)")
    return WeatherImport(created_locations, total, created, unchanged)


@transaction.atomic
def weather_location_create(
    *, code: str, latitude: Decimal, longitude: Decimal, zone: str = "UTC", name: str = ""
) -> WeatherLocation:
    location, _ = WeatherLocation.objects.update_or_create(
        code=code, defaults={"latitude": latitude, "longitude": longitude, "zone": zone, "name": name or code}
    )
    return location


@transaction.atomic
def weather_area_assign(*, kind: str, code: str, location_code: str) -> WeatherArea:
    """Make `location_code` stand for the weather of a feeder or a region (replacing an earlier mapping)."""
    location = WeatherLocation.objects.filter(code=location_code).first()
    if location is None:
        raise UnknownWeatherLocation(f"no weather location {location_code!r}", field="location_code")
    # The API names the kinds in lower case ("feeder", "region"); they are stored upper case.
    if kind.upper() not in WeatherArea.Kind.values:
        raise DomainError(f"kind must be feeder or region, got {kind!r}", field="kind")
    area, _ = WeatherArea.objects.update_or_create(
        kind=kind.upper(), code=code, defaults={"location": location}
    )
    return area


@transaction.atomic
def weather_forecast_fetch(
    *, location_code: str, now: datetime, fetch: open_meteo.Fetch = open_meteo.http_get, days: int = 7
) -> int:
    """Fetch and store the Open-Meteo forecast for a location, issued at `now` (truncated to the hour).
    Repeating it within the hour changes nothing. Returns the hours stored."""
    location = _location(location_code)
    frame = open_meteo.fetch_forecast(
        float(location.latitude), float(location.longitude), days=days, fetch=fetch
    )
    issued_at = now.replace(minute=0, second=0, microsecond=0)
    created, _ = _upsert(WeatherForecast, location, _rows(frame), source="open-meteo", issued_at=issued_at)
    return created


@transaction.atomic
def weather_archive_fetch(
    *, location_code: str, start: date, end: date, fetch: open_meteo.Fetch = open_meteo.http_get
) -> int:
    """Fetch and store observed (reanalysis) hours [start, end] from the Open-Meteo archive."""
    location = _location(location_code)
    frame = open_meteo.fetch_archive(
        float(location.latitude), float(location.longitude), start=start, end=end, fetch=fetch
    )
    created, _ = _upsert(WeatherObservation, location, _rows(frame), source="open-meteo-archive")
    return created


def weather_forecast_fetch_all(
    *, now: datetime, fetch: open_meteo.Fetch = open_meteo.http_get
) -> dict[str, str]:
    """Fetch every location's forecast; one failing location does not stop the others."""
    outcome = {}
    for code in WeatherLocation.objects.order_by("code").values_list("code", flat=True):
        try:
            outcome[code] = f"{weather_forecast_fetch(location_code=code, now=now, fetch=fetch)} hours"
        except (open_meteo.OpenMeteoError, OSError) as error:
            outcome[code] = f"failed: {error}"
    return outcome


def _location(code: str) -> WeatherLocation:
    location = WeatherLocation.objects.filter(code=code).first()
    if location is None:
        raise UnknownWeatherLocation(f"no weather location {code!r}", field="location_code")
    return location


__all__ = [
    "WeatherFileError",
    "weather_archive_fetch",
    "weather_area_assign",
    "weather_forecast_fetch",
    "weather_forecast_fetch_all",
    "weather_import_file",
    "weather_location_create",
]
