"""How much a series moves per degree, from its champion model (for heat-wave scenarios)."""

import numpy as np
import pandas as pd

from forecasting.models import Series


def temperature_sensitivity(*, series_code: str) -> float:
    """Change of the series' mean value per +1 °C over the horizon of its latest trained run (0.0 when the
    series has no weather, no trained model, or a champion that ignores temperature)."""
    from forecasting.modelling.models import lead_days  # noqa: F401 - keeps the modelling import lazy
    from forecasting.selectors.forecasts import model_run_fitted, model_run_latest, series_history
    from forecasting.selectors.weather import weather_frame

    series = Series.objects.select_related("weather_location").filter(code=series_code).first()
    if series is None or series.weather_location_id is None:
        return 0.0
    run = model_run_latest(series=series)
    if run is None or run.model == "seasonal_naive":
        return 0.0
    model = model_run_fitted(run)
    step = pd.Timedelta(minutes=series.resolution_minutes)
    origin = pd.Timestamp(run.trained_to).tz_convert("UTC")
    targets = pd.date_range(origin, periods=7 * 24 * 60 // series.resolution_minutes, freq=step)
    start = origin - pd.Timedelta(days=60)
    y = series_history(series=series, period_from=start, period_to=origin)
    hourly = weather_frame(
        location_code=series.weather_location.code, period_from=start, period_to=targets[-1] + step
    )
    grid = pd.date_range(start, targets[-1] + step, freq=step, inclusive="left")
    temperature = (
        hourly[["temperature_c"]].reindex(hourly.index.union(grid)).interpolate(limit_direction="both")
    )
    X = temperature.reindex(grid)
    if X["temperature_c"].isna().all():
        return 0.0
    base = np.asarray(model.predict(y, X, targets), dtype=float)
    warmer = np.asarray(model.predict(y, X + 1.0, targets), dtype=float)
    return float(np.nanmean(warmer - base))
