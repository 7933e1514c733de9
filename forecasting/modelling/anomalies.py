"""Anomalies in prices and load aggregates: an Isolation Forest over features that say *why* an interval is
unusual, so each finding comes with a reason staff can check.

Features per interval: the value, its deviation from the same local time last week, from the median of the
surrounding day, the step from the previous interval, and how long the value has not changed (a stuck
feed). The reason names the feature with the largest robust z-score.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.modelling.calendar import Calendar
from forecasting.modelling.models import local_lag

FEATURES = {
    "level": "value {value:,.2f} is {z:+.1f} robust σ from the series' usual level",
    "vs_last_week": "{value:,.2f} is {z:+.1f} robust σ from the same time last week",
    "vs_day_median": "{value:,.2f} is {z:+.1f} robust σ from the median of the surrounding day",
    "step": "a jump of {z:+.1f} robust σ from the previous interval",
    "flat_run": "the value has not changed for {run} intervals (stuck feed?)",
}


@dataclass(frozen=True)
class Finding:
    interval_start: pd.Timestamp
    value: float
    score: float
    reason: str


def _robust_z(values: np.ndarray) -> np.ndarray:
    median = np.nanmedian(values)
    mad = np.nanmedian(np.abs(values - median)) * 1.4826
    scale = mad if mad > 0 else (np.nanstd(values) or 1.0)
    z: npt.NDArray[np.float64] = (values - median) / scale
    return z


def features(y: pd.Series, calendar: Calendar) -> pd.DataFrame:
    spd = calendar.steps_per_day
    values = y.to_numpy(dtype=float)
    last_week = y.reindex(local_lag(y.index, 7, calendar)).to_numpy(dtype=float)
    day_median = y.rolling(spd, center=True, min_periods=spd // 4).median().to_numpy()
    step = np.diff(values, prepend=np.nan)
    same = np.concatenate([[False], values[1:] == values[:-1]])
    run = np.zeros(len(values))
    for i in range(1, len(values)):
        run[i] = run[i - 1] + 1 if same[i] else 0
    return pd.DataFrame(
        {
            "level": values,
            "vs_last_week": values - last_week,
            "vs_day_median": values - day_median,
            "step": step,
            "flat_run": run,
        },
        index=y.index,
    )


def detect(
    y: pd.Series, calendar: Calendar, *, contamination: float = 0.005, min_flat_run: int = 6, seed: int = 0
) -> list[Finding]:
    """Unusual intervals of `y` (regular grid; NaN ignored), most anomalous first."""
    from sklearn.ensemble import IsolationForest

    frame = features(y, calendar)
    usable = frame["level"].notna()
    data = frame[usable].copy()
    if len(data) < 50:
        return []
    zscores = pd.DataFrame(
        {name: _robust_z(data[name].to_numpy(dtype=float)) for name in FEATURES if name != "flat_run"},
        index=data.index,
    ).fillna(0.0)
    flat = data["flat_run"].to_numpy()
    # Every repeat of a run that gets long enough counts, not only its tail.
    group = np.cumsum(flat == 0)
    longest = pd.Series(flat).groupby(group).transform("max").to_numpy()
    stuck = (flat > 0) & (longest >= min_flat_run)
    model_input = zscores.assign(flat_run=np.minimum(flat, 48)).to_numpy()
    forest = IsolationForest(n_estimators=200, contamination=contamination, random_state=seed)
    labels = forest.fit_predict(model_input)
    scores = -forest.score_samples(model_input)
    # A long flat run is a data fault by itself, whatever the forest thinks of its level.
    flagged = (labels == -1) | stuck
    findings = []
    for position in np.flatnonzero(flagged):
        start = data.index[position]
        value = float(data["level"].iloc[position])
        if stuck[position]:
            reason = FEATURES["flat_run"].format(run=int(longest[position]) + 1)
        else:
            row = zscores.iloc[position]
            name = row.abs().idxmax()
            reason = FEATURES[name].format(value=value, z=float(row[name]))
        findings.append(Finding(start, value, float(scores[position]), reason))
    findings.sort(key=lambda f: -f.score)
    return findings


def inject(
    y: pd.Series, *, count: int, seed: int = 1, min_gap: int = 48
) -> tuple[pd.Series, set[pd.Timestamp]]:
    """A copy of `y` with `count` anomalies injected far apart: spikes (×3), dips (×0.2), sign flips and
    stuck runs of 8 intervals. Returns the series and the set of injected instants."""
    rng = np.random.default_rng(seed)
    values = y.to_numpy(dtype=float).copy()
    chosen: list[int] = []
    candidates = rng.permutation(np.arange(8 * 24 * 2, len(values) - 16))
    for c in candidates:
        if all(abs(c - other) > min_gap for other in chosen) and np.isfinite(values[c]):
            chosen.append(int(c))
        if len(chosen) == count:
            break
    injected: set[pd.Timestamp] = set()
    scale = np.nanmedian(np.abs(values)) or 1.0
    for n, position in enumerate(chosen):
        kind = n % 4
        if kind == 0:
            values[position] = values[position] * 3 + 3 * scale
        elif kind == 1:
            values[position] = values[position] * 0.2 - 2 * scale
        elif kind == 2:
            values[position] = -values[position] - 2 * scale if values[position] > 0 else 4 * scale
        else:
            values[position : position + 8] = values[position]
            injected.update(y.index[position + 1 : position + 8])
            continue
        injected.add(y.index[position])
    return pd.Series(values, index=y.index), injected


def precision_recall(findings: list[Finding], injected: set[pd.Timestamp]) -> dict[str, float]:
    found = {f.interval_start for f in findings}
    true = len(found & injected)
    return {
        "precision": true / len(found) if found else 0.0,
        "recall": true / len(injected) if injected else 0.0,
        "found": len(found),
        "injected": len(injected),
    }
