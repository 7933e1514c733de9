"""Validation of interval readings, vectorised over a whole batch (numpy), the same for every ingest path.

A batch is a set of parallel arrays; `validate` returns one reject code per row (0 = valid). The checks
are those of VEE's first stage: the reading must be well-formed and plausible for its meter. Spikes, stuck
values and gaps are judged later against the meter's history (`metering.vee`).
"""

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.periods import is_aware

KWH_SCALE = 10_000  # energy is exact in units of 0.0001 kWh (the column has 4 decimals)
NAT = np.datetime64("NaT", "s")


class Reject(enum.IntEnum):
    UNKNOWN_METER = 1
    INVALID_TIMESTAMP = 2
    INVALID_NUMBER = 3
    TOO_PRECISE = 4
    EMPTY_INTERVAL = 5
    WRONG_INTERVAL_LENGTH = 6
    MISALIGNED_INTERVAL = 7
    FUTURE_INTERVAL = 8
    METER_NOT_INSTALLED = 9
    NEGATIVE_ENERGY = 10
    IMPLAUSIBLE_ENERGY = 11
    CONFLICT_IN_BATCH = 12
    INVALID_QUALITY = 13

    @property
    def code(self) -> str:
        return self.name.lower()


# (field, message) per reject; the field names are those of the API's reading input.
REJECT_TEXT: dict[Reject, tuple[str, str]] = {
    Reject.UNKNOWN_METER: ("meterSerial", "No meter with this serial is installed."),
    Reject.INVALID_TIMESTAMP: (
        "intervalStart",
        "Timestamps must be ISO 8601 with an offset (e.g. 2024-01-15T00:30:00Z).",
    ),
    Reject.INVALID_NUMBER: ("kwh", "kWh must be a finite decimal number."),
    Reject.TOO_PRECISE: ("kwh", "kWh has more than 4 decimal places."),
    Reject.EMPTY_INTERVAL: ("intervalEnd", "The interval end must be after its start."),
    Reject.WRONG_INTERVAL_LENGTH: ("intervalEnd", "The interval length differs from the meter's resolution."),
    Reject.MISALIGNED_INTERVAL: (
        "intervalStart",
        "The interval does not start on a boundary of the meter's resolution in its local time.",
    ),
    Reject.FUTURE_INTERVAL: ("intervalEnd", "The interval has not ended yet."),
    Reject.METER_NOT_INSTALLED: ("intervalStart", "The meter was not installed during this interval."),
    Reject.NEGATIVE_ENERGY: ("kwh", "kWh must not be negative (export has its own meter)."),
    Reject.IMPLAUSIBLE_ENERGY: ("kwh", "kWh exceeds what the connection can deliver in the interval."),
    Reject.CONFLICT_IN_BATCH: ("intervalStart", "The batch holds different values for this interval."),
    Reject.INVALID_QUALITY: ("qualities", "The quality must be ACTUAL, ESTIMATED or SUBSTITUTED."),
}


def reject_message(code: int, *, detail: str = "") -> tuple[str, str, str]:
    """(code, field, message) of a reject, for results and reports."""
    reject = Reject(code)
    field, message = REJECT_TEXT[reject]
    return reject.code, field, f"{message} {detail}".strip()


@dataclass
class MeterTable:
    """The meters a batch refers to, as arrays sorted by id."""

    ids: np.ndarray  # int64
    resolution_s: np.ndarray  # int64
    timezone: np.ndarray  # object (IANA names)
    installed_at: np.ndarray  # datetime64[s]
    removed_at: np.ndarray  # datetime64[s], NaT when still installed
    max_energy_e4_per_s: np.ndarray  # float64: max_power_kw / 3600 * KWH_SCALE
    meter_point_ids: np.ndarray  # int64
    feeder_index: np.ndarray  # int64 index into feeder_codes
    feeder_codes: list[tuple[str, str]]  # (feeder_code, region_code)

    def positions(self, meter_ids: np.ndarray) -> np.ndarray:
        """Index into this table per row; -1 where the meter is unknown."""
        if len(self.ids) == 0:
            return np.full(len(meter_ids), -1)
        pos = np.searchsorted(self.ids, meter_ids).clip(0, len(self.ids) - 1)
        return np.where(self.ids[pos] == meter_ids, pos, -1)


@dataclass
class ReadingArrays:
    """Readings as parallel arrays; `kwh_bad` marks values that failed to parse or were too precise."""

    meter_id: np.ndarray  # int64, -1 for an unknown serial
    start: np.ndarray  # datetime64[s] (UTC), NaT if unparsable
    end: np.ndarray  # datetime64[s] (UTC), NaT if unparsable
    kwh_e4: np.ndarray  # int64
    kwh_reject: np.ndarray  # int8: 0, INVALID_NUMBER, TOO_PRECISE or INVALID_QUALITY

    def __len__(self) -> int:
        return len(self.meter_id)

    def take(self, mask: np.ndarray) -> "ReadingArrays":
        return ReadingArrays(
            self.meter_id[mask], self.start[mask], self.end[mask], self.kwh_e4[mask], self.kwh_reject[mask]
        )


def kwh_from_floats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact kWh (× 10^4) from parsed floats, with a reject code where not finite or too precise.

    Floats from a decimal text with at most 4 decimals round-trip exactly through × 10^4 and rounding
    (well inside float64's 15 significant digits for any plausible reading).
    """
    values = np.asarray(values, dtype="float64")
    finite = np.isfinite(values) & (np.abs(values) < 1e9)
    scaled = np.where(finite, values, 0.0) * KWH_SCALE
    rounded = np.rint(scaled)
    reject = np.zeros(len(values), dtype="int8")
    reject[np.abs(scaled - rounded) > 1e-3] = Reject.TOO_PRECISE
    reject[~finite] = Reject.INVALID_NUMBER
    return rounded.astype("int64"), reject


def _local_seconds(start: np.ndarray, timezone: str) -> npt.NDArray[np.int64]:
    """Local wall-clock seconds of UTC instants; converts each distinct instant once."""
    unique, inverse = np.unique(start, return_inverse=True)
    local = pd.DatetimeIndex(unique).tz_localize("UTC").tz_convert(timezone).tz_localize(None)
    seconds: npt.NDArray[np.int64] = local.as_unit("s").asi8[inverse]
    return seconds


def validate(readings: ReadingArrays, meters: MeterTable, *, now: np.datetime64) -> np.ndarray:
    """Return a reject code per row (0 = valid); the first failed check wins."""
    n = len(readings)
    codes = np.zeros(n, dtype="int8")
    pos = meters.positions(readings.meter_id)
    known = pos >= 0
    safe = np.where(known, pos, 0)

    def mark(mask: np.ndarray, code: Reject) -> None:
        codes[(codes == 0) & mask] = code

    mark(~known, Reject.UNKNOWN_METER)
    if len(meters.ids) == 0:
        return codes
    mark(np.isnat(readings.start) | np.isnat(readings.end), Reject.INVALID_TIMESTAMP)
    mark(readings.kwh_reject == Reject.INVALID_NUMBER, Reject.INVALID_NUMBER)
    mark(readings.kwh_reject == Reject.TOO_PRECISE, Reject.TOO_PRECISE)
    mark(readings.kwh_reject == Reject.INVALID_QUALITY, Reject.INVALID_QUALITY)
    start_s = readings.start.astype("int64")
    length_s = readings.end.astype("int64") - start_s
    mark(length_s <= 0, Reject.EMPTY_INTERVAL)
    resolution = meters.resolution_s[safe]
    mark(length_s != resolution, Reject.WRONG_INTERVAL_LENGTH)
    ok = codes == 0
    local_s = start_s.copy()
    zones = meters.timezone[safe]
    for zone in pd.unique(zones[ok]):
        rows = ok & (zones == zone)
        local_s[rows] = _local_seconds(readings.start[rows], zone)
    mark(local_s % np.where(resolution > 0, resolution, 1) != 0, Reject.MISALIGNED_INTERVAL)
    mark(readings.end > now, Reject.FUTURE_INTERVAL)
    removed = meters.removed_at[safe]
    mark(
        (readings.start < meters.installed_at[safe]) | (~np.isnat(removed) & (readings.start >= removed)),
        Reject.METER_NOT_INSTALLED,
    )
    mark(readings.kwh_e4 < 0, Reject.NEGATIVE_ENERGY)
    mark(readings.kwh_e4 > meters.max_energy_e4_per_s[safe] * length_s, Reject.IMPLAUSIBLE_ENERGY)
    _mark_conflicts(readings, codes)
    return codes


def _keys(readings: ReadingArrays, rows: np.ndarray) -> npt.NDArray[np.int64]:
    """One int64 per row for (meter, interval start): meter id above 28 bits of minutes since 1970."""
    minutes = readings.start[rows].astype("int64") // 60
    keys: npt.NDArray[np.int64] = (readings.meter_id[rows] << 28) | minutes
    return keys


def _mark_conflicts(readings: ReadingArrays, codes: np.ndarray) -> None:
    """Reject every row of an interval that the batch gives two different values (order-independent)."""
    valid = np.flatnonzero(codes == 0)
    if len(valid) < 2:
        return
    keys = _keys(readings, valid)
    order = np.argsort(keys, kind="stable")
    k, e = keys[order], readings.kwh_e4[valid][order]
    same_key = k[1:] == k[:-1]
    differs = same_key & (e[1:] != e[:-1])
    if not differs.any():
        return
    bad_keys = np.unique(k[1:][differs])
    codes[valid[np.isin(keys, bad_keys)]] = Reject.CONFLICT_IN_BATCH


def first_of_duplicates(readings: ReadingArrays, codes: np.ndarray) -> npt.NDArray[np.bool_]:
    """Mask of valid rows to write: one per (meter, interval); repeats of the same value are dropped."""
    keep: npt.NDArray[np.bool_] = codes == 0
    valid = np.flatnonzero(keep)
    if len(valid) < 2:
        return keep
    _, first = np.unique(_keys(readings, valid), return_index=True)
    out = np.zeros(len(codes), dtype=bool)
    out[valid[first]] = True
    return out


MAX_KWH = Decimal("1e9")  # beyond any meter; also keeps kWh × 10^4 inside int64


@dataclass(frozen=True)
class ReadingInput:
    interval_start: datetime
    interval_end: datetime
    kwh: Decimal


def readings_from_inputs(meter_id: int, readings: list[ReadingInput]) -> ReadingArrays:
    """Arrays from typed inputs (Decimal kWh is converted exactly)."""
    n = len(readings)
    kwh_e4 = np.zeros(n, dtype="int64")
    kwh_reject = np.zeros(n, dtype="int8")
    for i, reading in enumerate(readings):
        value = reading.kwh
        if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= MAX_KWH:
            kwh_reject[i] = Reject.INVALID_NUMBER
            continue
        scaled = value * KWH_SCALE
        if scaled != scaled.to_integral_value():
            kwh_reject[i] = Reject.TOO_PRECISE
            continue
        kwh_e4[i] = int(scaled)
    return ReadingArrays(
        meter_id=np.full(n, meter_id, dtype="int64"),
        start=_to_datetime64([r.interval_start for r in readings]),
        end=_to_datetime64([r.interval_end for r in readings]),
        kwh_e4=kwh_e4,
        kwh_reject=kwh_reject,
    )


def _to_datetime64(values: list[datetime]) -> np.ndarray:
    out = np.empty(len(values), dtype="datetime64[s]")
    for i, value in enumerate(values):
        if not is_aware(value) or value.microsecond:
            out[i] = np.datetime64("NaT")
        else:
            out[i] = np.datetime64(int(value.timestamp()), "s")
    return out
