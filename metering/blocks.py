"""Interval blocks (the shape of ESPI / Green Button `IntervalBlock`s) as reading arrays, parsed in bulk.

A block is one meter's consecutive intervals: a start, a resolution and a list of values (kWh, decimal
strings or JSON numbers), optionally a quality per value. The values of a whole request are parsed at once:
all-string lists are checked with two regular expressions over their joined text and converted by numpy,
so a request of 300,000 values costs tens of milliseconds, not a typed object per value. A value that fails
is rejected on its own (the same reject codes as every ingest path); the others are written.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from core.periods import is_aware
from metering.validation import KWH_SCALE, MAX_KWH, NAT, ReadingArrays, Reject, kwh_from_floats

# Plain decimal notation, as the API's Decimal scalar takes it: optional minus, digits, optional fraction.
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_PLAIN_LINES = re.compile(r"(?:-?[0-9]+(?:\.[0-9]+)?\n)*-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
# A fifth or later fraction digit that is not zero: more precise than the readings column (4 places).
_TOO_PRECISE = re.compile(r"\.[0-9]{4}[0-9]*[1-9]", re.ASCII)
_ISO_DURATION = re.compile(r"PT(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?", re.ASCII)
MAX_RESOLUTION_S = 24 * 3600


class BlockShapeError(ValueError):
    """A block is malformed as a whole (not one of its values): `field` names the input, e.g. `values`."""

    def __init__(self, message: str, *, block: int, field: str) -> None:
        super().__init__(message)
        self.block = block
        self.field = field


@dataclass(frozen=True)
class Block:
    meter_id: int  # -1 for an unknown meter
    start: datetime
    resolution_s: int
    values: Sequence[Any]
    qualities: Sequence[Any] | None = None


@dataclass
class BlockArrays:
    """The readings of a request's blocks, flattened, with each reading's quality and origin."""

    readings: ReadingArrays
    quality: npt.NDArray[np.int8]
    offsets: npt.NDArray[np.int64]  # first flat index of each block, plus the total at the end

    def locate(self, index: int) -> tuple[int, int]:
        """(block index, value index) of a flat reading index."""
        block = int(np.searchsorted(self.offsets, index, side="right")) - 1
        return block, index - int(self.offsets[block])


def parse_resolution(value: object) -> int:
    """Seconds of a resolution: seconds (an int) or an ISO 8601 duration (`PT30M`, `PT1H`, `PT900S`)."""
    if isinstance(value, bool):
        raise ValueError("A resolution is a number of seconds or an ISO 8601 duration such as PT30M.")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and (match := _ISO_DURATION.fullmatch(value.strip())) and any(match.groups()):
        hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    else:
        raise ValueError("A resolution is a number of seconds or an ISO 8601 duration such as PT30M.")
    if not 0 < seconds <= MAX_RESOLUTION_S:
        raise ValueError("A resolution lies between 1 second and 1 day.")
    return seconds


def parse_values(values: Sequence[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """kWh × 10^4 per value and a reject code (0, INVALID_NUMBER or TOO_PRECISE), exact for strings.

    All-string and all-number lists take a vectorised path; mixed lists or lists with a bad value fall back
    to a per-value check that finds which ones are bad.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int8")
    kinds = set(map(type, values))
    if kinds == {str}:
        text = "\n".join(values)
        if _PLAIN_LINES.fullmatch(text) and not _TOO_PRECISE.search(text):
            return kwh_from_floats(np.array(values, dtype="float64"))
    elif kinds <= {float, int}:
        try:
            return kwh_from_floats(np.array(values, dtype="float64"))
        except OverflowError:  # an integer beyond float64: found below, value by value
            pass
    kwh_e4 = np.zeros(n, dtype="int64")
    reject = np.zeros(n, dtype="int8")
    for i, value in enumerate(values):
        kwh_e4[i], reject[i] = _parse_one(value)
    return kwh_e4, reject


def _parse_one(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN.fullmatch(text):
            return 0, Reject.INVALID_NUMBER
        if _TOO_PRECISE.search(text):
            return 0, Reject.TOO_PRECISE
        parsed = Decimal(text)
        if abs(parsed) >= MAX_KWH:
            return 0, Reject.INVALID_NUMBER
        return int(parsed * KWH_SCALE), 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            e4, reject = kwh_from_floats(np.array([value], dtype="float64"))
        except OverflowError:
            return 0, Reject.INVALID_NUMBER
        return int(e4[0]), int(reject[0])
    return 0, Reject.INVALID_NUMBER


def blocks_to_arrays(
    blocks: Sequence[Block], qualities: Mapping[str, int], default_quality: int
) -> BlockArrays:
    """Flatten blocks into reading arrays: value i of a block covers [start + i·res, start + (i+1)·res).

    A start without an offset (or with fractions of a second) makes every value of its block an
    INVALID_TIMESTAMP; an unknown quality name rejects its value (INVALID_QUALITY). Raises BlockShapeError
    when `values` or `qualities` is not a list, or the lists differ in length.
    """
    lengths = []
    for index, block in enumerate(blocks):
        if not isinstance(block.values, list):
            raise BlockShapeError("values is a list of kWh values.", block=index, field="values")
        if block.qualities is not None:
            if not isinstance(block.qualities, list):
                raise BlockShapeError("qualities is a list of quality names.", block=index, field="qualities")
            if len(block.qualities) != len(block.values):
                raise BlockShapeError(
                    f"qualities has {len(block.qualities)} entries for {len(block.values)} values.",
                    block=index,
                    field="qualities",
                )
        lengths.append(len(block.values))
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype="int64")]).astype("int64")
    total = int(offsets[-1])
    all_values: list[Any] = []
    for block in blocks:
        all_values.extend(block.values)
    kwh_e4, kwh_reject = parse_values(all_values)
    meter_id = np.repeat(np.array([b.meter_id for b in blocks], dtype="int64"), lengths)
    start = np.empty(total, dtype="datetime64[s]")
    end = np.empty(total, dtype="datetime64[s]")
    quality = np.full(total, default_quality, dtype="int8")
    for index, block in enumerate(blocks):
        part = slice(int(offsets[index]), int(offsets[index + 1]))
        steps = np.arange(lengths[index], dtype="int64") * block.resolution_s
        if not is_aware(block.start) or block.start.microsecond:
            start[part] = NAT
            end[part] = NAT
        else:
            first = int(block.start.timestamp())
            start[part] = (first + steps).astype("datetime64[s]")
            end[part] = (first + steps + block.resolution_s).astype("datetime64[s]")
        if block.qualities is not None:
            codes = np.array([qualities.get(q, 0) if isinstance(q, str) else 0 for q in block.qualities])
            quality[part] = np.where(codes > 0, codes, default_quality)
            bad = codes == 0
            if bad.any():
                rejects = kwh_reject[part]
                rejects[bad & (rejects == 0)] = Reject.INVALID_QUALITY
    readings = ReadingArrays(meter_id=meter_id, start=start, end=end, kwh_e4=kwh_e4, kwh_reject=kwh_reject)
    return BlockArrays(readings=readings, quality=quality, offsets=offsets)
