"""Synthetic series with known structure: daily and weekly shape, a heating/cooling effect, noise."""

import numpy as np
import pandas as pd


def demand_series(
    *, days: int = 120, start: str = "2023-01-02", step_minutes: int = 60, noise: float = 0.02, seed: int = 7
) -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days * 24 * 60 // step_minutes, freq=f"{step_minutes}min", tz="UTC")
    hours = index.hour + index.minute / 60
    day_of_year = index.dayofyear.to_numpy()
    temperature = (
        12
        + 8 * np.sin(2 * np.pi * (day_of_year - 100) / 365)
        + 5 * np.sin(2 * np.pi * (hours - 9) / 24)
        + np.cumsum(rng.normal(0, 0.3, len(index))) * 0.3
    )
    daily = 1 + 0.35 * np.sin(2 * np.pi * (hours - 6) / 24) ** 2 + 0.25 * np.exp(-((hours - 18.5) ** 2) / 3)
    weekly = np.where(index.dayofweek >= 5, 0.8, 1.0)
    weather = 1 + 0.03 * np.maximum(0, 16 - temperature) + 0.04 * np.maximum(0, temperature - 22)
    level = 1000 * daily * weekly * weather
    y = pd.Series(level * (1 + rng.normal(0, noise, len(index))), index=index)
    X = pd.DataFrame({"temperature_c": temperature}, index=index)
    return y, X
