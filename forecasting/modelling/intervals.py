"""Split-conformal prediction intervals from a model's own past errors.

The residuals of earlier forecasts (target instants before the new origin only, so nothing is seen twice)
give the quantiles of the error; the 80 % band is [q10, q90] and the 95 % band [q2.5, q97.5] of those errors
added to the point forecast. Errors are relative to the forecast (`relative`, for demand whose spread grows
with the level) or absolute (prices, which cross zero). Residuals are grouped by lead day, so day 7 gets wider
bands than day 1, and only the most recent `window_days` count, so the bands follow the season.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LEVELS = {"80": 0.80, "95": 0.95}
MIN_PER_BUCKET = 48


@dataclass
class ResidualPool:
    mode: str = "relative"  # or "absolute"
    window_days: int = 28
    floor: float = 1e-9
    times: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="datetime64[ns]"))
    leads: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    residuals: np.ndarray = field(default_factory=lambda: np.empty(0))

    def scale(self, predicted: np.ndarray) -> np.ndarray:
        if self.mode == "absolute":
            return np.ones_like(predicted, dtype=float)
        return np.maximum(np.abs(predicted), self.floor)

    def add(
        self, times: pd.DatetimeIndex, leads: np.ndarray, predicted: np.ndarray, actual: np.ndarray
    ) -> None:
        ok = np.isfinite(predicted) & np.isfinite(actual)
        residual = (actual[ok] - predicted[ok]) / self.scale(predicted[ok])
        stamps = times.tz_convert("UTC").tz_localize(None).to_numpy()[ok]
        self.times = np.concatenate([self.times, stamps])
        self.leads = np.concatenate([self.leads, np.asarray(leads)[ok]])
        self.residuals = np.concatenate([self.residuals, residual])

    def quantiles(self, before: pd.Timestamp, lead: int) -> dict[str, tuple[float, float]] | None:
        """Lower and upper error quantiles per level from residuals of targets before `before`."""
        cutoff = before.tz_convert("UTC").tz_localize(None).to_datetime64()
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
        for name, level in LEVELS.items():
            alpha = 1 - level
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

    def as_json(self, *, last_days: int | None = None) -> dict:
        """A compact form to store with a model run (the most recent residuals only)."""
        keep = np.ones(len(self.times), bool)
        if last_days is not None and len(self.times):
            keep = self.times >= self.times.max() - np.timedelta64(last_days, "D")
        return {
            "mode": self.mode,
            "window_days": self.window_days,
            "floor": self.floor,
            "times": [str(t) for t in self.times[keep].astype("datetime64[s]")],
            "leads": [int(v) for v in self.leads[keep]],
            "residuals": [round(float(v), 6) for v in self.residuals[keep]],
        }

    @classmethod
    def from_json(cls, data: dict) -> "ResidualPool":
        return cls(
            mode=data["mode"],
            window_days=data["window_days"],
            floor=data["floor"],
            times=np.asarray(data["times"], dtype="datetime64[ns]"),
            leads=np.asarray(data["leads"], dtype=int),
            residuals=np.asarray(data["residuals"], dtype=float),
        )
