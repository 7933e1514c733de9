"""Split-conformal prediction intervals from a model's own past errors.

The residuals of earlier forecasts (target instants before the new origin only, so nothing is seen twice)
give the quantiles of the error; the 80 % band is [q10, q90] and the 95 % band [q2.5, q97.5] of those errors
added to the point forecast. Errors are relative to the forecast (`relative`, for demand whose spread grows
with the level) or absolute (prices, which cross zero). Residuals are grouped by lead day, so day 7 gets wider
bands than day 1, and only the most recent `window_days` count, so the bands follow the season.

The miscoverage rate of each level adapts (adaptive conformal inference, Gibbs & Candès 2021): the issued
bands are kept with the errors, and every forecast's worth of targets known before the new origin moves the
rate by `gamma` × (nominal − observed miss rate), so bands widen after a run of misses (a heat wave) and
narrow after a calm spell instead of waiting for the 28-day window to turn over.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

LEVELS = {"80": 0.80, "95": 0.95}
MIN_PER_BUCKET = 48
ADAPT_GAMMA = 0.1


@dataclass
class ResidualPool:
    mode: str = "relative"  # or "absolute"
    window_days: int = 28
    floor: float = 1e-9
    gamma: float = ADAPT_GAMMA
    times: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="datetime64[ns]"))
    leads: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    residuals: np.ndarray = field(default_factory=lambda: np.empty(0))
    # Per error: whether the band issued for it missed (1) or covered (0) the actual, per level (NaN: no
    # band was issued), and its weight (1 / the targets of its forecast, so one forecast counts once).
    misses: dict[str, np.ndarray] = field(default_factory=lambda: {n: np.empty(0) for n in LEVELS})
    weights: np.ndarray = field(default_factory=lambda: np.empty(0))
    # The rates a stored pool was saved with (its misses are not stored).
    fixed_rates: dict[str, float] = field(default_factory=dict)

    def scale(self, predicted: np.ndarray) -> np.ndarray:
        if self.mode == "absolute":
            return np.ones_like(predicted, dtype=float)
        scale: npt.NDArray[np.float64] = np.maximum(np.abs(predicted), self.floor)
        return scale

    def add(
        self,
        times: pd.DatetimeIndex,
        leads: np.ndarray,
        predicted: np.ndarray,
        actual: np.ndarray,
        bounds: pd.DataFrame | None = None,
    ) -> None:
        """The errors of one forecast; `bounds` (from `bounds()`) are the bands issued with it."""
        ok = np.isfinite(predicted) & np.isfinite(actual)
        residual = (actual[ok] - predicted[ok]) / self.scale(predicted[ok])
        stamps = times.tz_convert("UTC").tz_localize(None).to_numpy()[ok]
        self.times = np.concatenate([self.times, stamps])
        self.leads = np.concatenate([self.leads, np.asarray(leads)[ok]])
        self.residuals = np.concatenate([self.residuals, residual])
        for name in LEVELS:
            miss = np.full(int(ok.sum()), np.nan)
            if bounds is not None:
                lower = bounds[f"lower_{name}"].to_numpy(dtype=float)[ok]
                upper = bounds[f"upper_{name}"].to_numpy(dtype=float)[ok]
                banded = np.isfinite(lower) & np.isfinite(upper)
                a = actual[ok]
                miss[banded] = ((a[banded] < lower[banded]) | (a[banded] > upper[banded])).astype(float)
            self.misses[name] = np.concatenate([self.misses[name], miss])
        self.weights = np.concatenate([self.weights, np.full(int(ok.sum()), 1.0 / max(1, int(ok.sum())))])

    def miss_rate(self, name: str, before: pd.Timestamp | np.datetime64) -> float:
        """The adapted miscoverage rate of level `name` for bands issued at `before`."""
        alpha = 1 - LEVELS[name]
        if name in self.fixed_rates:
            return self.fixed_rates[name]
        if self.gamma <= 0 or len(self.weights) != len(self.times):
            return alpha
        cutoff = _instant(before)
        known = (self.times < cutoff) & np.isfinite(self.misses[name])
        if not known.any():
            return alpha
        return alpha + self.gamma * float(np.sum(self.weights[known] * (alpha - self.misses[name][known])))

    def quantiles(self, before: pd.Timestamp, lead: int) -> dict[str, tuple[float, float]] | None:
        """Lower and upper error quantiles per level from residuals of targets before `before`."""
        cutoff = _instant(before)
        recent = (self.times < cutoff) & (self.times >= cutoff - np.timedelta64(self.window_days, "D"))
        chosen = recent & (self.leads == lead)
        if chosen.sum() < MIN_PER_BUCKET:
            chosen = recent & (self.leads <= lead)
        if chosen.sum() < MIN_PER_BUCKET:
            chosen = self.times < cutoff
        values = self.residuals[chosen]
        if len(values) < 2:
            return None
        n = len(values)
        out = {}
        for name in LEVELS:
            alpha = min(max(self.miss_rate(name, before), 0.0), 1.0)
            # Finite-sample conformal correction: widen the quantile levels by 1/n.
            lo = max(0.0, alpha / 2 - 1 / (n + 1))
            hi = min(1.0, 1 - alpha / 2 + 1 / (n + 1))
            out[name] = (float(np.quantile(values, lo)), float(np.quantile(values, hi)))
        return out

    def bounds(self, predicted: np.ndarray, leads: np.ndarray, before: pd.Timestamp) -> pd.DataFrame:
        """Value and 80/95 % bounds for forecasts made at `before`."""
        frame = {"value": predicted.astype(float)}
        for name in LEVELS:
            frame[f"lower_{name}"] = np.full(len(predicted), np.nan)
            frame[f"upper_{name}"] = np.full(len(predicted), np.nan)
        scale = self.scale(predicted)
        for lead in np.unique(leads):
            mask = leads == lead
            q = self.quantiles(before, int(lead))
            if q is None:
                continue
            for name, (lo, hi) in q.items():
                frame[f"lower_{name}"][mask] = predicted[mask] + lo * scale[mask]
                frame[f"upper_{name}"][mask] = predicted[mask] + hi * scale[mask]
        return pd.DataFrame(frame)

    def as_json(self, *, last_days: int | None = None) -> dict[str, Any]:
        """A compact form to store with a model run (the most recent residuals only)."""
        keep = np.ones(len(self.times), bool)
        if last_days is not None and len(self.times):
            keep = self.times >= self.times.max() - np.timedelta64(last_days, "D")
        adapted = len(self.weights) == len(self.times)
        return {
            "mode": self.mode,
            "window_days": self.window_days,
            "floor": self.floor,
            "gamma": self.gamma,
            "times": [str(t) for t in self.times[keep].astype("datetime64[s]")],
            "leads": [int(v) for v in self.leads[keep]],
            "residuals": [round(float(v), 6) for v in self.residuals[keep]],
            # The miss rates adapted over everything dropped here, so the kept errors carry them on.
            "miss_rate": {
                name: round(self.miss_rate(name, self.times.max() + np.timedelta64(1, "s")), 6)
                for name in LEVELS
            }
            if adapted and len(self.times)
            else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ResidualPool":
        """A stored pool; its bands use the miss rates adapted up to its newest error (none before they
        were stored: the nominal rates)."""
        return cls(
            mode=data["mode"],
            window_days=data["window_days"],
            floor=data["floor"],
            gamma=data.get("gamma", 0.0),
            times=np.asarray(data["times"], dtype="datetime64[ns]"),
            leads=np.asarray(data["leads"], dtype=int),
            residuals=np.asarray(data["residuals"], dtype=float),
            fixed_rates={name: float(rate) for name, rate in (data.get("miss_rate") or {}).items()},
        )


def _instant(value: pd.Timestamp | np.datetime64) -> np.datetime64:
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        instant: np.datetime64 = value.to_datetime64()
        return instant
    # numpy's stubs list no (datetime64, unit) signature, which numpy accepts (a change of unit)
    converted: np.datetime64 = np.datetime64(value, "ns")  # type: ignore[call-overload]
    return converted
