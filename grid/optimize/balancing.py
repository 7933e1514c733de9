"""Balancing with price signals: choose a band per interval so forecast feeder load stays within limits.

The bands are the tariff's announced rates (the trial's Low / Normal / High), so every adder keeps the rate
within the tariff's bounds [lowest band, highest band]. Load under a signal = the feeder's baseline (no
signal, i.e. Normal) × the consumer-response factor of the band and hour. Greedy: put High on every interval
where a feeder would exceed its import limit; with no limit binding, lower the peak instead by putting High on
the peak interval while that lowers the day's peak. Load shedding is the comparison: the energy it would have
to cut to meet the same limits, without and with the price signal.

Arrays in, arrays out; no Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grid.optimize.response import ResponseModel


@dataclass(frozen=True)
class FeederOutcome:
    limit_kw: float | None
    before_kw: np.ndarray  # predicted kW per interval under the base bands
    after_kw: np.ndarray  # under the chosen bands

    @property
    def peak_before_kw(self) -> float:
        return float(self.before_kw.max())

    @property
    def peak_after_kw(self) -> float:
        return float(self.after_kw.max())


@dataclass(frozen=True)
class BalanceResult:
    bands: list[str]
    feeders: dict[str, FeederOutcome]
    shed_kwh_without_signal: float
    shed_kwh_with_signal: float
    within_limits: bool

    @property
    def peak_before_kw(self) -> float:
        return float(sum(f.before_kw for f in self.feeders.values()).max())

    @property
    def peak_after_kw(self) -> float:
        return float(sum(f.after_kw for f in self.feeders.values()).max())


def signal_what_if(
    *,
    baseline_kw: Mapping[str, np.ndarray],
    bands: Sequence[str],
    hours: np.ndarray,
    model: ResponseModel,
    base_bands: Sequence[str] | None = None,
    limits_kw: Mapping[str, float] | None = None,
) -> dict[str, FeederOutcome]:
    """Predicted load per feeder under `bands` (and under `base_bands`, default all Normal)."""
    base = list(base_bands) if base_bands is not None else ["Normal"] * len(bands)
    before_factor = model.factor(base, hours)
    after_factor = model.factor(list(bands), hours)
    limits = limits_kw or {}
    return {
        feeder: FeederOutcome(
            limits.get(feeder), np.asarray(load) * before_factor, np.asarray(load) * after_factor
        )
        for feeder, load in baseline_kw.items()
    }


def _shed_kwh(outcomes: Mapping[str, np.ndarray], limits: Mapping[str, float], dt_h: float) -> float:
    return float(
        sum(np.clip(load - limits[f], 0, None).sum() for f, load in outcomes.items() if f in limits) * dt_h
    )


def signal_balance(
    *,
    baseline_kw: Mapping[str, np.ndarray],
    limits_kw: Mapping[str, float],
    hours: np.ndarray,
    model: ResponseModel,
    base_bands: Sequence[str] | None = None,
    dt_h: float = 0.5,
    raise_band: str = "High",
) -> BalanceResult:
    """Bands that keep every feeder within its import limit if the response allows, else the lowest peak."""
    steps = len(hours)
    base = list(base_bands) if base_bands is not None else ["Normal"] * steps
    bands = list(base)
    feeders = list(baseline_kw)
    load = np.array([np.asarray(baseline_kw[f], dtype=float) for f in feeders])  # (F, T)
    limit = np.array([limits_kw.get(f, np.inf) for f in feeders])[:, None]

    def predicted(current):
        return load * model.factor(current, hours)[None, :]

    for _ in range(steps):
        over = np.flatnonzero((predicted(bands) > limit + 1e-9).any(axis=0))
        changeable = [t for t in over if bands[t] != raise_band]
        if not changeable:
            break
        for t in changeable:
            bands[t] = raise_band
    if not limits_kw:
        # no limits: put High on the peak interval while that does not raise the peak (ties included)
        for _ in range(steps):
            total = predicted(bands).sum(axis=0)
            t = int(total.argmax())
            if bands[t] == raise_band:
                break
            trial = list(bands)
            trial[t] = raise_band
            if predicted(trial).sum(axis=0).max() > total.max() + 1e-9:
                break
            bands = trial
    before = predicted(base)
    after = predicted(bands)
    outcomes = {f: FeederOutcome(limits_kw.get(f), before[k], after[k]) for k, f in enumerate(feeders)}
    return BalanceResult(
        bands=bands,
        feeders=outcomes,
        shed_kwh_without_signal=_shed_kwh({f: before[k] for k, f in enumerate(feeders)}, limits_kw, dt_h),
        shed_kwh_with_signal=_shed_kwh({f: after[k] for k, f in enumerate(feeders)}, limits_kw, dt_h),
        within_limits=bool((after <= limit + 1e-9).all()),
    )
