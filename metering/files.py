"""Reading files into `ReadingArrays`: the long format and the wide format of the London households file.

Long: a header with `meter_serial`, `interval_start`, `interval_end`, `kwh` (aliases: serial, start, end,
energy_kwh), one reading per line. Wide: a first column of interval starts (`timestamp`,
`timestamp_utc`) and one column per meter serial; interval ends follow from each meter's resolution;
empty cells are absent readings, not errors.

Timestamps need an offset (`Z`, `+01:00`); naive ones are refused unless the caller names the zone they
are in (`assume_tz`). Parsing is vectorised: each distinct timestamp and serial is parsed once.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv as pa_csv

from metering.validation import ReadingArrays, kwh_from_floats

LONG_ALIASES = {
    "meter_serial": "serial",
    "serial": "serial",
    "interval_start": "start",
    "start": "start",
    "interval_end": "end",
    "end": "end",
    "kwh": "kwh",
    "energy_kwh": "kwh",
}
WIDE_TIME_COLUMNS = ("timestamp", "timestamp_utc", "interval_start")
BLOCK_BYTES = 64 << 20


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (no header, unknown columns); nothing is written."""


@dataclass
class ParsedFile:
    readings: ReadingArrays
    line_numbers: np.ndarray  # file line of each reading (1 = header), for reject reports
    serials: list[str]  # distinct serials seen
    unknown_serials: list[str]


def detect_format(path: Path) -> str:
    with path.open(encoding="utf-8-sig") as handle:
        header = [c.strip().lower() for c in handle.readline().split(",")]
    if {"serial", "start", "end", "kwh"} <= {LONG_ALIASES.get(c) for c in header}:
        return "long"
    if header and header[0] in WIDE_TIME_COLUMNS and len(header) > 1:
        return "wide"
    raise UnreadableFile(
        f"{path.name}: unknown header {header[:5]}; expected meter_serial,interval_start,interval_end,kwh "
        "(long) or timestamp,<serial>,<serial>,... (wide)."
    )


def parse_timestamps(values: pd.Series, *, assume_tz: str | None) -> np.ndarray:
    """Distinct strings parsed once; NaT where unparsable or naive without `assume_tz`."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = pd.Series(uniques, dtype="string").str.strip()
    has_offset = uniques.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    parsed = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[s]")
    if has_offset.any():
        aware = pd.to_datetime(uniques[has_offset], utc=True, format="ISO8601", errors="coerce")
        parsed[has_offset.to_numpy()] = aware.dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    if assume_tz and (~has_offset).any():
        naive = pd.to_datetime(uniques[~has_offset], format="ISO8601", errors="coerce")
        local = naive.dt.tz_localize(assume_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        parsed[(~has_offset).to_numpy()] = local.dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    out = parsed[np.where(codes >= 0, codes, 0)]
    out[codes < 0] = np.datetime64("NaT")
    return out


def _serial_ids(
    serials: pd.Series, lookup: Callable[[list[str]], dict[str, int]]
) -> tuple[np.ndarray, list, list]:
    codes, uniques = pd.factorize(serials.astype("string").str.strip(), use_na_sentinel=True)
    names = [str(u) for u in uniques]
    ids = lookup(names)
    table = np.array([ids.get(name, -1) for name in names] or [-1], dtype="int64")
    meter_ids = np.where(codes >= 0, table[np.where(codes >= 0, codes, 0)], -1)
    return meter_ids, names, [n for n in names if n not in ids]


def read_long(
    path: Path,
    *,
    lookup: Callable[[list[str]], dict[str, int]],
    assume_tz: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParsedFile:
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    rename = {c: LONG_ALIASES[c.strip().lower()] for c in header if c.strip().lower() in LONG_ALIASES}
    parts: list[ReadingArrays] = []
    serials: dict[str, None] = {}
    unknown: dict[str, None] = {}
    for chunk in _chunks(path, progress):
        chunk = chunk.rename(columns=rename)
        meter_ids, names, missing = _serial_ids(chunk["serial"], lookup)
        serials.update(dict.fromkeys(names))
        unknown.update(dict.fromkeys(missing))
        kwh_e4, kwh_reject = kwh_from_floats(pd.to_numeric(chunk["kwh"], errors="coerce").to_numpy())
        parts.append(
            ReadingArrays(
                meter_id=meter_ids,
                start=parse_timestamps(chunk["start"], assume_tz=assume_tz),
                end=parse_timestamps(chunk["end"], assume_tz=assume_tz),
                kwh_e4=kwh_e4,
                kwh_reject=kwh_reject,
            )
        )
    readings = _concat(parts)
    return ParsedFile(readings, np.arange(len(readings)) + 2, list(serials), list(unknown))


def _chunks(path: Path, progress: Callable[[int], None] | None) -> Iterator[pd.DataFrame]:
    """Stream the file in blocks with Arrow's multi-threaded CSV reader; every column as text."""
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=BLOCK_BYTES, encoding="utf-8-sig"),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
        ),
    )
    for batch in reader:
        yield batch.to_pandas(types_mapper=pd.ArrowDtype)
        if progress:
            progress(batch.num_rows)


def read_wide(
    path: Path,
    *,
    lookup: Callable[[list[str]], dict[str, int]],
    resolution_s: Callable[[np.ndarray], np.ndarray],
    assume_tz: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParsedFile:
    """Wide file → long arrays; `resolution_s` gives each meter id's interval length in seconds."""
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype={0: "string"})
    time_column = frame.columns[0]
    starts = parse_timestamps(frame[time_column], assume_tz=assume_tz)
    names = [str(c).strip() for c in frame.columns[1:]]
    ids = lookup(names)
    values = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    present = ~np.isnan(values)  # empty cells: no reading for that meter and interval
    rows, cols = np.nonzero(present)
    meter_of_column = np.array([ids.get(n, -1) for n in names], dtype="int64")
    meter_ids = meter_of_column[cols]
    start = starts[rows]
    kwh_e4, kwh_reject = kwh_from_floats(values[rows, cols])
    end = start + resolution_s(meter_ids).astype("timedelta64[s]")
    if progress:
        progress(len(frame))
    readings = ReadingArrays(meter_ids, start, end, kwh_e4, kwh_reject)
    return ParsedFile(readings, rows + 2, names, [n for n in names if n not in ids])


def _concat(parts: list[ReadingArrays]) -> ReadingArrays:
    if not parts:
        empty = np.array([], dtype="int64")
        return ReadingArrays(
            empty, empty.astype("datetime64[s]"), empty.astype("datetime64[s]"), empty, empty.astype("int8")
        )
    return ReadingArrays(
        *(
            np.concatenate([getattr(p, name) for p in parts])
            for name in ("meter_id", "start", "end", "kwh_e4", "kwh_reject")
        )
    )
