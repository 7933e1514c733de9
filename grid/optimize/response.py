"""Consumer response to price bands, estimated from a trial with a treated and a control group.

The 2013 Low Carbon London trial put one group of households on a dynamic time-of-use tariff (Low / Normal /
High bands announced a day ahead) and kept a control group on a flat rate. Per band and hour of day, the
response factor is a difference-in-differences in logs:

    factor(band, hour) = [ToU(band, hour) / Std(band, hour)] / [ToU(Normal, hour) / Std(Normal, hour)]

where ToU(…) and Std(…) are the groups' mean kWh per half hour over the intervals in that band and hour.
Dividing by the Normal-band ratio of the same hour removes what differs between the groups anyway (size,
appliances), so the factor is the change a band causes. Hours where a band never occurred take the band's
all-day factor. Predicted load under a band signal = baseline (Normal) load × factor(band, hour).

Arrays and DataFrames in, numbers out; no Django.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

BANDS = ("Low", "Normal", "High")
MIN_INTERVALS = 8  # fewer observations in a band and hour: use the band's all-day factor


@dataclass
class ResponseModel:
    factors: dict[str, list[float]]  # band -> 24 hourly factors (Normal = 1)
    band_factor: dict[str, float]  # band -> all-day DiD factor
    raw_ratio: dict[str, float]  # band -> ToU / Std mean over the band's intervals (no DiD)
    intervals: dict[str, int] = field(default_factory=dict)  # band -> intervals observed
    households: dict[str, int] = field(default_factory=dict)  # group -> households

    def factor(self, bands: list[str] | np.ndarray, hours: np.ndarray) -> np.ndarray:
        table = {band: np.asarray(values) for band, values in self.factors.items()}
        return np.array([table.get(b, table["Normal"])[h] for b, h in zip(bands, hours, strict=True)])

    def predict(self, baseline: np.ndarray, bands: list[str] | np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Load under a band signal from the Normal-band baseline (last axis = intervals)."""
        load: npt.NDArray[np.float64] = np.asarray(baseline) * self.factor(bands, hours)
        return load

    def as_dict(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "band_factor": self.band_factor,
            "raw_ratio": self.raw_ratio,
            "intervals": self.intervals,
            "households": self.households,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResponseModel:
        return cls(**data)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> ResponseModel:
        return cls.from_dict(json.loads(path.read_text()))


def response_estimate(consumption: pd.DataFrame, groups: pd.Series, bands: pd.Series) -> ResponseModel:
    """Estimate from wide kWh per half hour (index = interval start, one column per household).

    `groups` maps household -> "ToU" | "Std"; `bands` maps interval start -> "Low" | "Normal" | "High" (the
    announced band; the control group saw the flat rate throughout).
    """
    common = consumption.index.intersection(bands.index)
    consumption = consumption.loc[common]
    band = bands.loc[common].to_numpy()
    tou_cols = [c for c in consumption.columns if groups.get(c) == "ToU"]
    std_cols = [c for c in consumption.columns if groups.get(c) == "Std"]
    if not tou_cols or not std_cols:
        raise ValueError("need households of both groups (ToU and Std)")
    tou = consumption[tou_cols].mean(axis=1, skipna=True).to_numpy()
    std = consumption[std_cols].mean(axis=1, skipna=True).to_numpy()
    hours = pd.DatetimeIndex(common).hour.to_numpy()
    ok = np.isfinite(tou) & np.isfinite(std)
    raw, band_factor, intervals = {}, {}, {}
    hourly: dict[str, list[float]] = {}
    normal_hour_ratio = np.full(24, np.nan)
    for h in range(24):
        sel = ok & (band == "Normal") & (hours == h)
        if sel.sum():
            normal_hour_ratio[h] = tou[sel].mean() / std[sel].mean()
    for b in BANDS:
        sel = ok & (band == b)
        intervals[b] = int(sel.sum())
        if not sel.any():
            raw[b], band_factor[b] = float("nan"), 1.0
            hourly[b] = [1.0] * 24
            continue
        raw[b] = float(tou[sel].mean() / std[sel].mean())
        # all-day DiD: against the Normal-band ratio of the same hours, weighted like the band's intervals
        expected = (normal_hour_ratio[hours[sel]] * std[sel]).sum() / std[sel].sum()
        band_factor[b] = float(raw[b] / expected) if np.isfinite(expected) else 1.0
        factors = []
        for h in range(24):
            in_hour = sel & (hours == h)
            if b == "Normal":
                factors.append(1.0)
            elif in_hour.sum() >= MIN_INTERVALS and np.isfinite(normal_hour_ratio[h]):
                factors.append(float(tou[in_hour].mean() / std[in_hour].mean() / normal_hour_ratio[h]))
            else:
                factors.append(band_factor[b])
        hourly[b] = factors
    return ResponseModel(
        factors=hourly,
        band_factor=band_factor,
        raw_ratio=raw,
        intervals=intervals,
        households={"ToU": len(tou_cols), "Std": len(std_cols)},
    )


def lcl_read(
    consumption_csv: Path, info_csv: Path, schedule_csv: Path
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The trial's files: wide kWh (timestamp, MAC…), household info (LCLid, stdorToU), dToU schedule."""
    consumption = pd.read_csv(consumption_csv, index_col=0)
    consumption.index = pd.to_datetime(consumption.index)
    info = pd.read_csv(info_csv)
    groups = info.set_index("LCLid")["stdorToU"].str.strip()
    schedule = pd.read_csv(schedule_csv)
    bands = pd.Series(
        schedule["dtou_band"].str.strip().to_numpy(), index=pd.to_datetime(schedule["timestamp"])
    )
    return consumption, groups, bands


def predicted_band_change(
    model: ResponseModel, consumption: pd.DataFrame, groups: pd.Series, bands: pd.Series
) -> dict[str, Any]:
    """Measured vs predicted change of the treated group's load per band, against its Normal level."""
    common = consumption.index.intersection(bands.index)
    band = bands.loc[common].to_numpy()
    hours = pd.DatetimeIndex(common).hour.to_numpy()
    tou = (
        consumption.loc[common, [c for c in consumption.columns if groups.get(c) == "ToU"]]
        .mean(axis=1)
        .to_numpy()
    )
    std = (
        consumption.loc[common, [c for c in consumption.columns if groups.get(c) == "Std"]]
        .mean(axis=1)
        .to_numpy()
    )
    ok = np.isfinite(tou) & np.isfinite(std)
    normal_ratio = np.full(24, np.nan)
    for h in range(24):
        sel = ok & (band == "Normal") & (hours == h)
        if sel.any():
            normal_ratio[h] = tou[sel].mean() / std[sel].mean()
    out = {}
    for b in ("Low", "High"):
        sel = ok & (band == b)
        if not sel.any():
            continue
        measured = tou[sel].sum() / std[sel].sum() - 1
        predicted_tou = std[sel] * normal_ratio[hours[sel]] * model.factor(band[sel], hours[sel])
        no_response = std[sel] * normal_ratio[hours[sel]]
        out[b] = {
            "measured_vs_control_pct": round(float(100 * measured), 1),
            "measured_vs_own_normal_pct": round(float(100 * (tou[sel].sum() / no_response.sum() - 1)), 1),
            "predicted_vs_own_normal_pct": round(
                float(100 * (predicted_tou.sum() / no_response.sum() - 1)), 1
            ),
            "intervals": int(sel.sum()),
        }
    return out


TRIAL_MODEL_PATH = Path(__file__).with_name("lcl_response_2013.json")


def trial_model() -> ResponseModel:
    """The response estimated from the whole 2013 trial (300 households; bench/storage_response.py)."""
    return ResponseModel.load(TRIAL_MODEL_PATH)


def rate_response(
    model: ResponseModel, *, band_rates_per_kwh: dict[str, float], zone: str
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The model as a consumer-response hook on unit rates (billing's `ConsumerResponse` signature):
    `(starts: datetime64 UTC, kwh_e4: int64, rate_micros: int64 per kWh) -> kwh_e4`.

    Each interval takes the band whose rate is nearest its unit rate, and its energy × factor(band, local
    hour). A flat tariff at the Normal rate keeps consumption; a dynamic one moves it as the trial measured.
    """
    names = list(band_rates_per_kwh)
    rates = np.array([band_rates_per_kwh[name] for name in names], dtype=float)

    def respond(starts: np.ndarray, kwh_e4: np.ndarray, rate_micros: np.ndarray) -> np.ndarray:
        if not len(kwh_e4):
            return kwh_e4
        hours = pd.DatetimeIndex(np.asarray(starts, dtype="datetime64[ns]")).tz_localize("UTC")
        local = hours.tz_convert(zone).hour.to_numpy()
        rate = np.asarray(rate_micros, dtype=float) / 1_000_000
        bands = [names[k] for k in np.abs(rate[:, None] - rates[None, :]).argmin(axis=1)]
        factor = model.factor(bands, local)
        result: np.ndarray = np.maximum(np.rint(np.asarray(kwh_e4, dtype=float) * factor), 0).astype(np.int64)
        return result

    return respond
