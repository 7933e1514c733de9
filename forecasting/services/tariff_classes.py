"""Tariff-class series from a file: the load of each tariff class (e.g. the sum of the meters on a standard,
Economy 7 or EV tariff, as the settlement system reports it) imported as `tariff_class:<CLASS>` series, so
the daily job forecasts them like any other aggregate."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.db import transaction

from core.errors import DomainError
from forecasting.modelling.calendar import Calendar, UnknownHolidays
from forecasting.modelling.csvseries import BadSeriesFile, read_csv_text, series_from_frame
from forecasting.models import Series, WeatherLocation
from forecasting.services.analysis import SeriesImport, series_values_upsert

MAX_CLASS_LENGTH = 64


class TariffClassFileError(DomainError, code="bad_series_file"): ...


@dataclass
class TariffClassImport:
    series: list[SeriesImport]
    created: list[str]


def _refuse(message: str, field: str = "file") -> TariffClassFileError:
    return TariffClassFileError(message, field=field)


@transaction.atomic
def tariff_class_values_import(
    *,
    path: Path,
    time_column: str = "interval_start",
    class_column: str = "tariff_class",
    value_column: str = "kwh",
    zone: str = "UTC",
    holidays: str = "",
    weather_location_code: str | None = None,
    unit: str = "kWh",
) -> TariffClassImport:
    """Import a long CSV (`interval_start,tariff_class,kwh`: one row per class and interval) into one
    `tariff_class:<CLASS>` series per class, creating the series that do not exist (with `zone`,
    `holidays` and the weather location given). Values are upserted by interval, so a re-import changes
    nothing and a corrected file overwrites; any bad cell refuses the whole file, naming line and column."""
    try:
        Calendar(zone=zone).tz  # noqa: B018 - validates the zone
    except Exception as error:
        raise _refuse(f"unknown time zone {zone!r}", "timezone") from error
    try:
        Calendar(holidays=holidays).holiday_dates(range(2020, 2021))
    except UnknownHolidays as error:
        raise _refuse(str(error), "holidays") from error
    location = None
    if weather_location_code:
        location = WeatherLocation.objects.filter(code=weather_location_code).first()
        if location is None:
            raise _refuse(f"no weather location {weather_location_code!r}", "weather_location")
    name = str(path)
    try:
        frame = read_csv_text(path)
        if class_column not in frame.columns:
            raise BadSeriesFile(
                name,
                f"no column {class_column!r}; columns are {', '.join(frame.columns)}",
                line=1,
                column=class_column,
            )
        classes = frame[class_column].str.strip()
        bad = (classes == "") | (classes.str.len() > MAX_CLASS_LENGTH)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise BadSeriesFile(
                name,
                f"a tariff class must be 1 to {MAX_CLASS_LENGTH} characters",
                line=row + 2,
                column=class_column,
            )
        parsed = {
            code: series_from_frame(
                rows, name=name, time_column=time_column, target_column=value_column, zone=zone
            )
            for code, rows in frame.groupby(classes, sort=True)
        }
    except BadSeriesFile as error:
        raise _refuse(str(error)) from error
    existing = set(
        Series.objects.filter(code__in=[f"tariff_class:{c}" for c in parsed]).values_list("code", flat=True)
    )
    imported, created = [], []
    for tariff_class, data in parsed.items():
        code = f"tariff_class:{tariff_class}"
        defaults: dict = {
            "kind": Series.Kind.TARIFF_CLASS,
            "resolution_minutes": int(data.step / pd.Timedelta(minutes=1)),
            "zone": zone,
            "unit": unit,
        }
        if holidays:
            defaults["holidays"] = holidays
        if location is not None:
            defaults["weather_location"] = location
        series, _ = Series.objects.update_or_create(code=code, defaults=defaults)
        if code not in existing:
            created.append(code)
        rows = series_values_upsert(series=series, y=data.y)
        imported.append(SeriesImport(code, rows, data.missing_steps, len(data.gaps)))
    return TariffClassImport(series=imported, created=created)


__all__ = ["TariffClassFileError", "TariffClassImport", "tariff_class_values_import"]
