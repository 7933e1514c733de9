"""Read a time series from any CSV: ISO timestamps with offset or `Z` (naive = local time in a zone),
hourly or half-hourly (inferred), gaps allowed and reported. Bad input raises `BadSeriesFile` naming the
file, the line and the column."""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
ALLOWED_STEPS_MIN = (5, 10, 15, 30, 60)


class BadSeriesFile(ValueError):
    """The file cannot be read as a series; the message names the file, the line and the column."""

    code = "bad_series_file"

    def __init__(
        self, path: str, message: str, *, line: int | None = None, column: str | None = None
    ) -> None:
        where = path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


@dataclass
class SeriesData:
    y: pd.Series  # regular UTC grid, NaN in gaps
    X: pd.DataFrame | None  # same grid
    step: pd.Timedelta
    gaps: list[tuple[pd.Timestamp, pd.Timestamp]]  # [start, end) of each run of missing target values

    @property
    def missing_steps(self) -> int:
        return int(self.y.isna().sum())


def parse_instants(values: pd.Series, *, zone: str, path: str, column: str) -> pd.DatetimeIndex:
    """UTC instants of ISO strings; a naive string is local wall time in `zone` (DST repeats inferred)."""
    text = values.astype(str).str.strip()
    aware = text.str.contains(_OFFSET)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        result[aware] = pd.to_datetime(text[aware], utc=True, errors="coerce", format="ISO8601")
    if (~aware).any():
        naive = pd.to_datetime(text[~aware], errors="coerce", format="ISO8601")
        try:
            local = pd.DatetimeIndex(naive).tz_localize(zone, ambiguous="infer", nonexistent="NaT")
        except Exception:  # the repeated hour cannot be inferred (unsorted or one copy only)
            local = pd.DatetimeIndex(naive).tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        result[~aware] = local.tz_convert("UTC")
    bad = result.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise BadSeriesFile(
            path,
            f"{text.iloc[row]!r} is not an ISO 8601 timestamp (or is not a valid local time in {zone})",
            line=_line(values, row),
            column=column,
        )
    return pd.DatetimeIndex(result)


def _line(rows: pd.Series | pd.DataFrame, position: int) -> int:
    """The file line of the row at `position` (the frame keeps the file's row numbers as its index)."""
    return int(rows.index[position]) + 2


def _numbers(frame: pd.DataFrame, column: str, path: str) -> np.ndarray:
    text = frame[column].astype("string").str.strip()
    empty = text.isna() | (text == "") | text.str.lower().isin(["nan", "na", "null"])
    numbers = pd.to_numeric(text.where(~empty), errors="coerce")
    bad = numbers.isna() & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise BadSeriesFile(
            path, f"{text.iloc[row]!r} is not a number", line=_line(frame, row), column=column
        )
    values: npt.NDArray[np.float64] = numbers.to_numpy(dtype=float)
    return values


def read_series_csv(
    path: str | Path,
    *,
    time_column: str,
    target_column: str,
    regressor_columns: tuple[str, ...] = (),
    zone: str = "UTC",
) -> SeriesData:
    frame = read_csv_text(path)
    return series_from_frame(
        frame,
        name=str(path),
        time_column=time_column,
        target_column=target_column,
        regressor_columns=regressor_columns,
        zone=zone,
    )


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """Every cell of a CSV as text, the index being the row number (line − 2)."""
    name = str(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as error:
        raise BadSeriesFile(name, "no such file") from error
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise BadSeriesFile(name, f"not a readable CSV ({str(error).strip()})") from error


def series_from_frame(
    frame: pd.DataFrame,
    *,
    name: str,
    time_column: str,
    target_column: str,
    regressor_columns: tuple[str, ...] = (),
    zone: str = "UTC",
) -> SeriesData:
    """A series from text cells (`read_csv_text`, or some of its rows: errors name the file's line)."""
    for column in (time_column, target_column, *regressor_columns):
        if column not in frame.columns:
            raise BadSeriesFile(
                name, f"no column {column!r}; columns are {', '.join(frame.columns)}", line=1, column=column
            )
    if frame.empty:
        raise BadSeriesFile(name, "no data rows", line=2)
    instants = parse_instants(frame[time_column], zone=zone, path=name, column=time_column)
    duplicated = instants.duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise BadSeriesFile(
            name,
            f"timestamp {frame[time_column].iloc[row]!r} repeats an earlier row",
            line=_line(frame, row),
            column=time_column,
        )
    target = _numbers(frame, target_column, name)
    regressors = {c: _numbers(frame, c, name) for c in regressor_columns}
    order = np.argsort(instants.asi8, kind="stable")
    instants = instants[order]
    diffs = np.diff(instants.asi8) // 60_000_000_000
    if len(diffs) == 0:
        raise BadSeriesFile(
            name, "needs at least two rows to infer the resolution", line=_line(frame, 0), column=time_column
        )
    step_min = int(np.median(diffs))
    if step_min not in ALLOWED_STEPS_MIN:
        raise BadSeriesFile(
            name,
            f"the typical spacing of timestamps is {step_min} minutes; expected 60 or 30 (or 15/10/5)",
            column=time_column,
        )
    step = pd.Timedelta(minutes=step_min)
    off_grid = ((instants - instants[0]) % step) != pd.Timedelta(0)
    if off_grid.any():
        row = int(order[np.flatnonzero(off_grid)[0]])
        raise BadSeriesFile(
            name,
            f"timestamp {frame[time_column].iloc[row]!r} is off the {step_min}-minute grid",
            line=_line(frame, row),
            column=time_column,
        )
    grid = pd.date_range(instants[0], instants[-1], freq=step, tz="UTC")
    y = pd.Series(target[order], index=instants).reindex(grid)
    X = None
    if regressors:
        X = pd.DataFrame({c: v[order] for c, v in regressors.items()}, index=instants).reindex(grid)
        X = X.interpolate(limit_direction="both")
    return SeriesData(y=y, X=X, step=step, gaps=find_gaps(y))


def find_gaps(y: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    missing = y.isna().to_numpy()
    if not missing.any():
        return []
    step = y.index[1] - y.index[0] if len(y) > 1 else pd.Timedelta(hours=1)
    edges = np.diff(np.concatenate([[0], missing.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(y.index[s], y.index[e - 1] + step) for s, e in zip(starts, ends, strict=True)]
