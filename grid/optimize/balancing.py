"""Balancing with price signals: choose a band per interval so forecast feeder load stays within limits.

The bands are the tariff's announced rates (the trial's Low / Normal / High), so every adder keeps the rate
within the tariff's bounds [lowest band, highest band]. Load under a signal = the feeder's baseline (no
signal, i.e. Normal) × the consumer-response factor of the band and hour. Greedy: put High on every interval
where a feeder would exceed its import limit; with no limit binding, lower the peak instead by putting High on
the peak interval while that lowers the day's peak. Then valley filling: Low bands (the tariff's lowest rate)
on the day's lowest-load intervals, where the response raises load, as long as every feeder stays within its
limit and the day's total stays at or below its mean there (the valley is filled, no new peak is made).
Load shedding is the comparison: the energy it would have to cut to meet the same limits, without and with
the price signal. `peak_shave` is what a battery fleet adds on top: discharge above a target, recharge in
the valleys, state of charge back to where it started.

Arrays in, arrays out; no Django.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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


class FeederPeaks:
    """The peak of the feeders' summed load before and after a signal (for results with `feeders`)."""

    feeders: dict[str, FeederOutcome]

    @property
    def peak_before_kw(self) -> float:
        return float(np.asarray(sum(f.before_kw for f in self.feeders.values())).max())

    @property
    def peak_after_kw(self) -> float:
        return float(np.asarray(sum(f.after_kw for f in self.feeders.values())).max())


@dataclass(frozen=True)
class BalanceResult(FeederPeaks):
    bands: list[str]
    feeders: dict[str, FeederOutcome]
    shed_kwh_without_signal: float
    shed_kwh_with_signal: float
    within_limits: bool
    valley_fill_kwh: float = 0.0  # energy the Low bands pull into the valley (after − before there)


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
    fill_band: str | None = "Low",
    valley_share: float = 0.25,
) -> BalanceResult:
    """Bands that keep every feeder within its import limit if the response allows, else the lowest peak;
    then `fill_band` on the valley (at most `valley_share` of the intervals, lowest load first)."""
    steps = len(hours)
    base = list(base_bands) if base_bands is not None else ["Normal"] * steps
    bands = list(base)
    feeders = list(baseline_kw)
    load = np.array([np.asarray(baseline_kw[f], dtype=float) for f in feeders])  # (F, T)
    limit = np.array([limits_kw.get(f, np.inf) for f in feeders])[:, None]

    def predicted(current: list[str]) -> npt.NDArray[np.float64]:
        kw: npt.NDArray[np.float64] = load * model.factor(current, hours)[None, :]
        return kw

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
            peak = int(total.argmax())
            if bands[peak] == raise_band:
                break
            trial = list(bands)
            trial[peak] = raise_band
            if predicted(trial).sum(axis=0).max() > total.max() + 1e-9:
                break
            bands = trial
    filled: list[int] = []
    if fill_band is not None and steps:
        filled = _fill_valley(bands, predicted, limit, fill_band, raise_band, valley_share)
    before = predicted(base)
    after = predicted(bands)
    outcomes = {f: FeederOutcome(limits_kw.get(f), before[k], after[k]) for k, f in enumerate(feeders)}
    valley = float((after[:, filled] - before[:, filled]).sum() * dt_h) if filled else 0.0
    return BalanceResult(
        bands=bands,
        feeders=outcomes,
        shed_kwh_without_signal=_shed_kwh({f: before[k] for k, f in enumerate(feeders)}, limits_kw, dt_h),
        shed_kwh_with_signal=_shed_kwh({f: after[k] for k, f in enumerate(feeders)}, limits_kw, dt_h),
        within_limits=bool((after <= limit + 1e-9).all()),
        valley_fill_kwh=valley,
    )


def _fill_valley(
    bands: list[str],
    predicted: Callable[[list[str]], npt.NDArray[np.float64]],
    limit: npt.NDArray[np.float64],
    fill_band: str,
    raise_band: str,
    valley_share: float,
) -> list[int]:
    """Put `fill_band` on the lowest-load intervals while it raises load there without a new peak."""
    steps = len(bands)
    total = predicted(bands).sum(axis=0)
    ceiling = float(total.mean())
    filled: list[int] = []
    for t in np.argsort(total, kind="stable")[: max(1, int(valley_share * steps))]:
        t = int(t)
        if bands[t] == raise_band:
            continue
        trial = list(bands)
        trial[t] = fill_band
        load = predicted(trial)
        if load[:, t].sum() <= total[t] + 1e-12:  # the band does not pull load at this hour
            continue
        if load[:, t].sum() > ceiling + 1e-9 or (load[:, t] > limit[:, 0] + 1e-9).any():
            continue
        bands[t] = fill_band
        filled.append(t)
    return sorted(filled)


@dataclass(frozen=True)
class PeakShave:
    battery_kw: np.ndarray  # per interval, + discharge (lowers the load), − charge
    soc_kwh: np.ndarray  # at the end of each interval
    after_kw: np.ndarray  # load − battery
    dt_h: float

    @property
    def discharge_kwh(self) -> float:
        return float(np.clip(self.battery_kw, 0, None).sum() * self.dt_h)

    @property
    def charge_kwh(self) -> float:
        return float(np.clip(-self.battery_kw, 0, None).sum() * self.dt_h)


def peak_shave(
    load_kw: np.ndarray,
    *,
    target_kw: float,
    power_kw: float,
    energy_kwh: float,
    soc_initial_kwh: float,
    efficiency_charge: float = 0.95,
    efficiency_discharge: float = 0.95,
    dt_h: float = 0.5,
) -> PeakShave:
    """An aggregate battery that discharges where load is above `target_kw` (highest first, within its
    power and stored energy) and recharges the same energy in the lowest intervals below the target, so the
    day ends at its initial state of charge and no interval goes over the target because of charging."""
    load = np.asarray(load_kw, dtype=float)
    steps = len(load)
    battery = np.zeros(steps)
    # Energy moved at most min(stored, room): the state of charge then stays within [0, energy_kwh] whatever
    # the order of discharges and recharges.
    available = max(min(soc_initial_kwh, energy_kwh - soc_initial_kwh), 0.0) * efficiency_discharge
    for t in np.argsort(-load, kind="stable"):
        excess = load[t] - target_kw
        if excess <= 0 or available <= 1e-12:
            break
        kw = min(excess, power_kw, available / dt_h)
        battery[t] = kw
        available -= kw * dt_h
    # recharge what was taken (at the battery: discharged / η_d; from the grid: / η_c), valleys first
    needed = battery.sum() * dt_h / efficiency_discharge / efficiency_charge
    for t in np.argsort(load, kind="stable"):
        if needed <= 1e-12:
            break
        if battery[t] > 0:
            continue
        kw = min(power_kw, max(target_kw - load[t], 0.0), needed / dt_h)
        battery[t] = -kw
        needed -= kw * dt_h
    if needed > 1e-9:  # not enough room below the target to recharge: discharge less
        scale = 1 - needed / (battery.clip(0).sum() * dt_h / efficiency_discharge / efficiency_charge)
        battery = np.where(battery > 0, battery * max(scale, 0.0), battery)
    delta = np.where(battery < 0, -battery * efficiency_charge, -battery / efficiency_discharge) * dt_h
    soc = soc_initial_kwh + np.cumsum(delta)
    return PeakShave(battery_kw=battery, soc_kwh=soc, after_kw=load - battery, dt_h=dt_h)
