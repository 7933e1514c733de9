"""Series from files, PV forecasts from the weather forecast, and anomaly detection with reasons."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import transaction

from core.errors import DomainError
from forecasting.modelling.anomalies import detect
from forecasting.modelling.csvseries import BadSeriesFile, read_series_csv
from forecasting.modelling.pv import PvSystem, pv_power_kw
from forecasting.models import Anomaly, Forecast, ModelRun, Series, SeriesValue
from forecasting.selectors.forecasts import series_get, series_history
from forecasting.selectors.weather import weather_frame
from forecasting.services.training import calendar_of

DEFAULT_PV_KWP = 4.0
PV_NRMSE = 0.115  # of capacity, from the PVDAQ system 50 check (docs/forecasting.md)


class SeriesFileError(DomainError, code="bad_series_file"): ...


class NoPvCapacity(DomainError, code="no_pv_capacity"): ...


@dataclass
class SeriesImport:
    series_code: str
    rows: int
    missing_steps: int
    gaps: int


@transaction.atomic
def series_import_file(
    *,
    path: Path,
    code: str,
    time_column: str,
    target_column: str,
    zone: str = "UTC",
    kind: str = Series.Kind.FILE,
    unit: str = "kWh",
) -> SeriesImport:
    """Create or update the series `code` (e.g. `file:system_load`) from a CSV (any resolution the backtest
    accepts). Values are upserted by interval; a bad file changes nothing."""
    try:
        data = read_series_csv(path, time_column=time_column, target_column=target_column, zone=zone)
    except BadSeriesFile as error:
        raise SeriesFileError(str(error), field="file") from error
    series, _ = Series.objects.update_or_create(
        code=code,
        defaults={
            "kind": kind.upper(),  # the stored value (the API names kinds in lower case)
            "resolution_minutes": int(data.step / pd.Timedelta(minutes=1)),
            "zone": zone,
            "unit": unit,
        },
    )
    rows = series_values_upsert(series=series, y=data.y)
    return SeriesImport(series.code, rows, data.missing_steps, len(data.gaps))


def series_values_upsert(*, series: Series, y: pd.Series) -> int:
    """Insert or overwrite the measured values of `series` (NaN skipped); returns how many were written."""
    rows = [
        SeriesValue(series=series, interval_start=t.to_pydatetime(), value=float(v))
        for t, v in y.dropna().items()
    ]
    SeriesValue.objects.bulk_create(
        rows,
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["series", "interval_start"],
        update_fields=["value"],
    )
    return len(rows)


@transaction.atomic
def pv_forecast_issue(*, series_code: str, now: datetime, kwp_per_system: float = DEFAULT_PV_KWP) -> Forecast:
    """Issue the 7-day PV forecast (average kW per interval) of `pv:feeder:<code>` or `pv:meter_point:<id>`
    from its location's weather forecast (GHI, temperature) with pvlib. Bands: ±1.28/1.96 × the model's
    nRMSE against PVDAQ system 50, clipped to [0, capacity]."""
    from metering.selectors.readings import meter_point_pv_count

    series = series_get(code=series_code)
    parts = series.code.split(":", 2)
    if len(parts) != 3 or parts[0] != "pv" or parts[1] not in ("feeder", "meter_point"):
        raise NoPvCapacity(
            f"{series.code} is not a pv:feeder:<code> or pv:meter_point:<id> series", field="series"
        )
    count = meter_point_pv_count(
        **({"feeder_code": parts[2]} if parts[1] == "feeder" else {"identifier": parts[2]})
    )
    if count == 0 or series.weather_location_id is None:
        raise NoPvCapacity(f"{series.code} has no meter point with PV or no weather location", field="series")
    capacity = count * kwp_per_system
    location = series.weather_location
    step = pd.Timedelta(minutes=series.resolution_minutes)
    start = pd.Timestamp(now).tz_convert("UTC").ceil(step)
    index = pd.date_range(start, periods=7 * 24 * 60 // series.resolution_minutes, freq=step)
    hourly = weather_frame(
        location_code=location.code, period_from=start, period_to=index[-1] + step, as_of=now
    )
    grid = hourly.reindex(hourly.index.union(index)).interpolate(limit_direction="both").reindex(index)
    system = PvSystem(
        latitude=float(location.latitude), longitude=float(location.longitude), capacity_kw=capacity
    )
    value = pv_power_kw(index, grid["ghi_wm2"].to_numpy(), grid["temperature_c"].to_numpy(), system)
    daylight = value > 0
    run = ModelRun.objects.create(
        series=series,
        model="pvlib_pvwatts",
        params={"capacity_kw": capacity, "systems": count, "tilt": system.tilt},
        trained_from=now,
        trained_to=now,
        data_hash="",
        metrics={"nrmse_of_capacity": PV_NRMSE},
        created_at=now,
    )

    def band(z: float, sign: int) -> list[float]:
        bound = np.where(daylight, value + sign * z * PV_NRMSE * capacity, 0.0)
        return [round(float(v), 4) for v in np.clip(bound, 0, capacity)]

    forecast, _ = Forecast.objects.update_or_create(
        series=series,
        issued_at=now,
        defaults={
            "run": run,
            "period_from": index[0].to_pydatetime(),
            "period_to": (index[-1] + step).to_pydatetime(),
            "step_minutes": series.resolution_minutes,
            "value": [round(float(v), 4) for v in value],
            "lower_80": band(1.28, -1),
            "upper_80": band(1.28, 1),
            "lower_95": band(1.96, -1),
            "upper_95": band(1.96, 1),
        },
    )
    return forecast


@transaction.atomic
def anomalies_detect(
    *,
    series_code: str,
    period_from: datetime,
    period_to: datetime,
    now: datetime,
    contamination: float = 0.005,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Find unusual intervals of a series over [period_from, period_to) and store them with their reason
    (replacing earlier findings in the period). Returns how many were found."""
    series = series_get(code=series_code)
    y = series_history(series=series, period_from=period_from - timedelta(days=7), period_to=period_to)
    findings = [
        f
        for f in detect(y, calendar_of(series), contamination=contamination)
        if f.interval_start >= pd.Timestamp(period_from)
    ]
    Anomaly.objects.filter(
        series=series, interval_start__gte=period_from, interval_start__lt=period_to
    ).delete()
    Anomaly.objects.bulk_create(
        Anomaly(
            series=series,
            interval_start=f.interval_start.to_pydatetime(),
            value=f.value,
            score=f.score,
            reason=f.reason[:200],
            detected_at=now,
        )
        for f in findings
    )
    if progress:
        progress(f"{series.code}: {len(findings)} anomalies")
    return len(findings)
