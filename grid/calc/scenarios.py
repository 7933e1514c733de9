"""Day shapes and scenario stresses as arrays (96 quarter hours), Django-free.

Networks without their own profiles (not from SimBench, no measured feeders) get a typical residential day:
a morning shoulder and an evening peak, and a PV bell between 06:00 and 18:00 UTC.
"""

import numpy as np

STEPS = 96


def typical_load_shape(steps: int = STEPS) -> np.ndarray:
    hours = np.arange(steps) * 24 / steps
    night = 0.45
    morning = 0.25 * np.exp(-((hours - 8.0) ** 2) / 3.0)
    evening = 0.55 * np.exp(-((hours - 18.5) ** 2) / 4.0)
    day = 0.15 * np.exp(-((hours - 13.0) ** 2) / 10.0)
    return night + morning + evening + day


def typical_pv_shape(steps: int = STEPS) -> np.ndarray:
    hours = np.arange(steps) * 24 / steps
    return np.clip(np.sin((hours - 6.0) / 12.0 * np.pi), 0.0, None) * ((hours >= 6.0) & (hours <= 18.0))


def heat_wave_factor(steps: int, *, sensitivity_per_c: float, extra_c: float) -> np.ndarray:
    """Load multiplier of a day `extra_c` °C hotter, strongest in the afternoon (from 1 at night)."""
    hours = np.arange(steps) * 24 / steps
    afternoon = 0.5 + 0.5 * np.exp(-((hours - 15.0) ** 2) / 18.0)
    return 1.0 + sensitivity_per_c * extra_c * afternoon


def evening_ramp_factors(
    steps: int, *, load_rise: float = 0.5, start_hour: float = 15.0, end_hour: float = 19.0
) -> tuple[np.ndarray, np.ndarray]:
    """(load multiplier, PV multiplier): load rises by `load_rise` while PV falls to nothing over the ramp."""
    hours = np.arange(steps) * 24 / steps
    progress = np.clip((hours - start_hour) / (end_hour - start_hour), 0.0, 1.0)
    after = hours >= end_hour
    load = 1.0 + load_rise * np.where(after, np.exp(-(hours - end_hour) / 3.0), progress)
    pv = np.where(hours < start_hour, 1.0, 1.0 - progress)
    return load, pv
