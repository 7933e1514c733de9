"""VEE (validation, estimation, editing) of interval readings against each meter's history; pure numpy.

A block is a set of meters sharing a time zone and a resolution, held as dense matrices (meter × interval)
over a `Window`: the period plus HISTORY_DAYS of history before it. `kwh_e4` holds energy in 0.0001 kWh
(ABSENT where there is no reading) and `quality` the reading's quality (0 where there is none). The
service (`metering.services.vee`) loads the block in one query and writes what `assess` finds.

Rules (the thresholds are the constants below; docs/vee.md explains them):
- gap: an expected interval (meter installed, interval ended by `as_of`) of the period with no reading;
- estimation: a gap run of at most SHORT_GAP_MAX_INTERVALS with a reading on both sides is interpolated
  linearly; any other run takes, per interval, the mean of the ACTUAL readings at the same local weekday
  and slot over the previous PROFILE_WEEKS weeks. A run with an interval that has no such history is
  left unestimated as a whole (never zeros for lack of data);
- spike: an actual reading greater than SPIKE_MEDIAN_FACTOR × the meter's median actual reading of the
  HISTORY_DAYS before the period and greater than SPIKE_FLOOR_KWH_PER_HALF_HOUR (scaled by resolution),
  judged only when the meter has SPIKE_MIN_HISTORY_DAYS of actual history;
- stuck: the same non-zero actual value for at least STUCK_MIN_INTERVALS consecutive intervals.
"""

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from metering.validation import KWH_SCALE

HISTORY_DAYS = 28  # the history the period is judged against (spike median, weekday-slot profile)
# Loaded beyond HISTORY_DAYS so that "the same local slot 4 weeks back" exists across a DST change.
HISTORY_MARGIN_S = 2 * 3600
SHORT_GAP_MAX_INTERVALS = 4  # runs up to this length with readings on both sides are interpolated
PROFILE_WEEKS = 4  # the weekday-slot profile averages this many previous weeks
SPIKE_MEDIAN_FACTOR = 10
SPIKE_FLOOR_KWH_PER_HALF_HOUR = 1  # no spike at or below 1 kWh per half hour (2 kW average)
SPIKE_MIN_HISTORY_DAYS = 7  # without a week of actual history there is no baseline to judge a spike by
STUCK_MIN_INTERVALS = 12

ABSENT = -1  # kwh_e4 of an interval without a reading
QUALITY_ACTUAL = 1  # metering.models.Quality.ACTUAL (no Django import here)
HALF_HOUR_S = 1800
_NO_VALUE = np.iinfo(np.int64).max


class Method(enum.IntEnum):
    NOT_ESTIMATED = 0
    INTERPOLATION = 1
    PROFILE = 2


def local_seconds(starts_s: np.ndarray, timezone: str) -> npt.NDArray[np.int64]:
    """Local wall-clock seconds (since 1970-01-01 local) of UTC epoch seconds."""
    index = pd.DatetimeIndex(np.asarray(starts_s, dtype="int64").astype("datetime64[s]"))
    seconds: npt.NDArray[np.int64] = (
        index.tz_localize("UTC").tz_convert(timezone).tz_localize(None).as_unit("s").asi8
    )
    return seconds


def interval_grid(start_s: int, end_s: int, timezone: str, resolution_s: int) -> npt.NDArray[np.int64]:
    """UTC starts (epoch s) of the intervals in [start, end) that begin on a local boundary of the resolution.

    Candidates are taken every gcd(resolution, 15 min) in UTC (every zone's offset is a multiple of 15
    minutes) and kept where the local time is aligned, exactly as validation accepts readings. A DST
    change therefore neither loses nor doubles an interval: a London day has 46, 48 or 50 half-hours.
    """
    step = math.gcd(resolution_s, 900)
    first = -(-start_s // step) * step
    candidates = np.arange(first, end_s, step, dtype="int64")
    if len(candidates) == 0:
        return candidates
    aligned: npt.NDArray[np.int64] = candidates[local_seconds(candidates, timezone) % resolution_s == 0]
    return aligned


def load_start(period_start_s: int) -> int:
    """Where a block's readings are loaded from: HISTORY_DAYS (and a margin) before the period."""
    return period_start_s - HISTORY_DAYS * 86400 - HISTORY_MARGIN_S


@dataclass(frozen=True)
class Window:
    """The interval grid of a block, from the history to the period end."""

    starts: np.ndarray  # int64 epoch seconds (UTC) of interval starts, ascending
    resolution_s: int
    period_col: int  # first column of the period; the columns before it are history
    median_col: int  # first column of the HISTORY_DAYS before the period (the spike median)
    local_key: np.ndarray  # int64: local day number × slots_per_day + local slot of the day
    slots_per_day: int

    def __len__(self) -> int:
        return len(self.starts)

    def col(self, start_s: int) -> int:
        """Column of an interval start (for tests and reports)."""
        col = int(np.searchsorted(self.starts, start_s))
        if col >= len(self.starts) or self.starts[col] != start_s:
            raise KeyError(start_s)
        return col


def window_build(*, timezone: str, resolution_s: int, period_start_s: int, period_end_s: int) -> Window:
    starts = interval_grid(load_start(period_start_s), period_end_s, timezone, resolution_s)
    local = local_seconds(starts, timezone)
    slots_per_day = 86400 // resolution_s
    return Window(
        starts=starts,
        resolution_s=resolution_s,
        period_col=int(np.searchsorted(starts, period_start_s)),
        median_col=int(np.searchsorted(starts, period_start_s - HISTORY_DAYS * 86400)),
        local_key=(local // 86400) * slots_per_day + (local % 86400) // resolution_s,
        slots_per_day=slots_per_day,
    )


def readings_matrix(
    window: Window,
    *,
    n_rows: int,
    rows: np.ndarray,
    starts_s: np.ndarray,
    kwh_e4: np.ndarray,
    quality: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense (kwh_e4, quality) matrices of a block from readings given as (row, start, kWh, quality).

    A reading off the window's grid (outside it, or misaligned after a change of zone or resolution)
    is ignored.
    """
    kwh = np.full((n_rows, len(window)), ABSENT, dtype="int64")
    qual = np.zeros((n_rows, len(window)), dtype="int8")
    if len(window) and len(rows):
        col = _columns(window, np.asarray(starts_s, dtype="int64"))
        on_grid = col >= 0
        kwh[rows[on_grid], col[on_grid]] = kwh_e4[on_grid]
        qual[rows[on_grid], col[on_grid]] = quality[on_grid]
    return kwh, qual


def _columns(window: Window, starts_s: np.ndarray) -> np.ndarray:
    """Column of each start on the window's grid, -1 where it is not on the grid."""
    first, n, res = int(window.starts[0]), len(window), window.resolution_s
    if int(window.starts[-1]) - first == (n - 1) * res:  # evenly spaced in UTC (whole-hour DST shifts)
        offset = starts_s - first
        col = offset // res
        return np.where((offset % res == 0) & (col >= 0) & (col < n), col, -1)
    col = np.minimum(np.searchsorted(window.starts, starts_s), n - 1)
    return np.where(window.starts[col] == starts_s, col, -1)


def expected_mask(window: Window, *, lo_s: np.ndarray, hi_s: np.ndarray, as_of_s: int) -> np.ndarray:
    """Intervals each meter should have read: in the period, in [lo, hi) (installed), ended by `as_of`."""
    starts = window.starts
    cols = (np.arange(len(starts)) >= window.period_col) & (starts + window.resolution_s <= as_of_s)
    lo = np.asarray(lo_s, dtype="int64")[:, None]
    hi = np.asarray(hi_s, dtype="int64")[:, None]
    return cols[None, :] & (starts[None, :] >= lo) & (starts[None, :] < hi)


def true_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True per row of a 2-D mask: (row, first column, column after the last)."""
    n_rows, n_cols = mask.shape
    padded = np.zeros((n_rows, n_cols + 2), dtype="int8")
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)  # row-major order: each end pairs with the start before it
    return rows, starts, ends


def _div_half_up(
    numerator: npt.NDArray[np.int64], denominator: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Round numerator / denominator half up, for non-negative ints and positive denominators."""
    return (2 * numerator + denominator) // (2 * denominator)


def interpolate(before_e4: np.ndarray, after_e4: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Linear interpolation of runs between the readings on either side, run after run (0.0001 kWh).

    The i-th of n missing intervals (1-based) gets before + (after − before) × i / (n + 1), rounded half
    up to 0.0001 kWh.
    """
    lengths = np.asarray(lengths, dtype="int64")
    run = np.repeat(np.arange(len(lengths)), lengths)
    i = np.arange(len(run)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + 1
    n1 = lengths[run] + 1
    a = np.asarray(before_e4, dtype="int64")[run]
    b = np.asarray(after_e4, dtype="int64")[run]
    return _div_half_up(a * (n1 - i) + b * i, n1)


def profile_means(
    window: Window, kwh_e4: np.ndarray, quality: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per (row, col): the mean of the actual readings at the same local weekday and slot over the
    previous PROFILE_WEEKS weeks, rounded half up to 0.0001 kWh, and whether there was any."""
    order = np.argsort(window.local_key, kind="stable")
    keys = window.local_key[order]
    total = np.zeros(len(rows), dtype="int64")
    count = np.zeros(len(rows), dtype="int64")
    actual = quality == QUALITY_ACTUAL
    last = len(keys) - 1
    for week in range(1, PROFILE_WEEKS + 1):
        target = window.local_key[cols] - week * 7 * window.slots_per_day
        lo = np.searchsorted(keys, target, side="left")
        hi = np.searchsorted(keys, target, side="right")
        # The repeated hour of an autumn DST day holds its local slots twice: both count.
        for k in range(int((hi - lo).max(initial=0))):
            col = order[np.minimum(lo + k, last)]
            ok = (hi - lo > k) & actual[rows, col]
            total += np.where(ok, kwh_e4[rows, col], 0)
            count += ok
    has = count > 0
    return np.where(has, _div_half_up(total, np.maximum(count, 1)), 0), has


@dataclass(frozen=True)
class Gaps:
    """Runs of missing expected intervals and the estimates for the runs that could be estimated."""

    row: np.ndarray
    start_col: np.ndarray
    end_col: np.ndarray  # exclusive
    method: np.ndarray  # Method per run
    estimate_row: np.ndarray
    estimate_col: np.ndarray
    estimate_kwh_e4: np.ndarray

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        lengths: npt.NDArray[np.int64] = self.end_col - self.start_col
        return lengths


def find_gaps(window: Window, kwh_e4: np.ndarray, quality: np.ndarray, expected: np.ndarray) -> Gaps:
    """Find the runs of missing expected intervals and estimate each run by its rule."""
    present = kwh_e4 != ABSENT
    rows, starts, ends = true_runs(expected & ~present)
    n_cols = kwh_e4.shape[1]
    lengths = ends - starts
    before = starts - 1
    has_before = (before >= 0) & present[rows, np.maximum(before, 0)]
    has_after = (ends < n_cols) & present[rows, np.minimum(ends, n_cols - 1)]
    short = (lengths <= SHORT_GAP_MAX_INTERVALS) & has_before & has_after
    method = np.full(len(rows), Method.NOT_ESTIMATED, dtype="int8")
    method[short] = Method.INTERPOLATION

    cell_run = np.repeat(np.arange(len(rows)), lengths)
    cell_row = rows[cell_run]
    cell_col = np.arange(len(cell_run)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + starts[cell_run]
    value = np.zeros(len(cell_run), dtype="int64")

    in_short = short[cell_run]
    value[in_short] = interpolate(
        kwh_e4[rows[short], before[short]],
        kwh_e4[rows[short], ends[short]],
        lengths[short],
    )
    long_cells = ~in_short
    profile, has = profile_means(window, kwh_e4, quality, cell_row[long_cells], cell_col[long_cells])
    value[long_cells] = profile
    lacking = np.bincount(cell_run[long_cells][~has], minlength=len(rows))
    method[~short & (lacking == 0)] = Method.PROFILE

    estimated = method[cell_run] != Method.NOT_ESTIMATED
    return Gaps(
        row=rows,
        start_col=starts,
        end_col=ends,
        method=method,
        estimate_row=cell_row[estimated],
        estimate_col=cell_col[estimated],
        estimate_kwh_e4=value[estimated],
    )


@dataclass(frozen=True)
class Spikes:
    row: np.ndarray
    col: np.ndarray
    threshold_e4: np.ndarray  # max(10 × median, floor) in 0.0001 kWh (a float: the floor may be fractional)


def spike_floor_e4(resolution_s: int) -> float:
    return SPIKE_FLOOR_KWH_PER_HALF_HOUR * KWH_SCALE * resolution_s / HALF_HOUR_S


def find_spikes(window: Window, kwh_e4: np.ndarray, quality: np.ndarray) -> Spikes:
    """Actual readings in the period greater than max(10 × the meter's 4-week median, the floor)."""
    history = kwh_e4[:, window.median_col : window.period_col]
    actual = quality[:, window.median_col : window.period_col] == QUALITY_ACTUAL
    ordered = np.sort(np.where(actual, history, _NO_VALUE), axis=1)
    n = actual.sum(axis=1)
    # twice the median: the sum of the two middle values (one value twice for an odd count); 0 without history
    median_x2 = np.zeros(len(n), dtype="int64")
    has = n > 0
    if has.any():
        rows_h = np.flatnonzero(has)
        median_x2[has] = ordered[rows_h, (n[has] - 1) // 2] + ordered[rows_h, n[has] // 2]
    floor_x = SPIKE_FLOOR_KWH_PER_HALF_HOUR * KWH_SCALE * window.resolution_s  # floor × HALF_HOUR_S
    enough_history = n >= SPIKE_MIN_HISTORY_DAYS * 86_400 // window.resolution_s
    period = np.zeros(kwh_e4.shape[1], dtype=bool)
    period[window.period_col :] = True
    spike = (
        period[None, :]
        & enough_history[:, None]
        & (quality == QUALITY_ACTUAL)
        & (2 * kwh_e4 > SPIKE_MEDIAN_FACTOR * median_x2[:, None])
        & (kwh_e4 * HALF_HOUR_S > floor_x)
    )
    rows, cols = np.nonzero(spike)
    threshold = np.maximum(SPIKE_MEDIAN_FACTOR * median_x2[rows] / 2, spike_floor_e4(window.resolution_s))
    return Spikes(row=rows, col=cols, threshold_e4=threshold)


@dataclass(frozen=True)
class StuckRuns:
    row: np.ndarray
    start_col: np.ndarray
    end_col: np.ndarray  # exclusive
    kwh_e4: np.ndarray


def find_stuck(window: Window, kwh_e4: np.ndarray, quality: np.ndarray) -> StuckRuns:
    """Runs of at least STUCK_MIN_INTERVALS consecutive actual readings of one non-zero value that reach
    into the period (a run is followed back into the history, so its start does not move between runs)."""
    ok = (quality == QUALITY_ACTUAL) & (kwh_e4 > 0)
    same = ok[:, 1:] & ok[:, :-1] & (kwh_e4[:, 1:] == kwh_e4[:, :-1])  # column j links cells j and j + 1
    rows, first, last = true_runs(same)
    ends = last + 1
    keep = (ends - first >= STUCK_MIN_INTERVALS) & (ends > window.period_col)
    rows, first, ends = rows[keep], first[keep], ends[keep]
    return StuckRuns(row=rows, start_col=first, end_col=ends, kwh_e4=kwh_e4[rows, first])


@dataclass(frozen=True)
class Findings:
    gaps: Gaps
    spikes: Spikes
    stuck: StuckRuns


def assess(window: Window, kwh_e4: np.ndarray, quality: np.ndarray, expected: np.ndarray) -> Findings:
    """Everything VEE finds in a block (spikes and stuck runs are judged on the readings as loaded)."""
    return Findings(
        gaps=find_gaps(window, kwh_e4, quality, expected),
        spikes=find_spikes(window, kwh_e4, quality),
        stuck=find_stuck(window, kwh_e4, quality),
    )
