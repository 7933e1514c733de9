"""CSV files in and out of the fleet optimiser (the `storage_optimize` command's contract, see CLI.md).

Every rejection names the file, the line (1 = header) and the column; nothing is written unless the whole
schedule is computed.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.optimize.storage import (
    FLEET_ARRAY_FIELDS,
    Fleet,
    Schedule,
    StorageProblem,
    StorageProblemError,
    problem_validate,
    schedule_optimize,
    self_consumption_pct,
)

# unit,feeder,capacity_kwh,power_kw,efficiency_charge,efficiency_discharge,soc_min_kwh,soc_max_kwh,
# soc_initial_kwh,degradation_cost_per_kwh (CLI.md): the battery fields in the optimiser's order
FLEET_COLUMNS = ("unit", "feeder", *FLEET_ARRAY_FIELDS)
PRICE_COLUMNS = ("interval_start", "interval_end", "import_price_per_kwh", "export_price_per_kwh")
PROFILE_COLUMNS = ("unit", "interval_start", "kw")
LIMIT_COLUMNS = ("feeder", "import_limit_kw", "export_limit_kw")
SCHEDULE_COLUMNS = ("unit", "interval_start", "charge_kw", "discharge_kw", "soc_kwh")


class StorageFileError(ValueError):
    """A file the optimiser cannot use: names the file, line and column."""

    code = "STORAGE_FILE_INVALID"

    def __init__(self, path: Path | str, line: int | None, column: str | None, message: str):
        where = str(Path(path).name if isinstance(path, Path) else path)
        if line is not None:
            where += f": line {line}"
        if column is not None:
            where += f", column {column}" if line is not None else f": column {column}"
        super().__init__(f"{where}: {message}")


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise StorageFileError(path, None, None, "no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise StorageFileError(path, None, None, f"not a readable CSV file ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in columns:
        if column not in frame.columns:
            raise StorageFileError(path, 1, column, "missing column")
    if frame.empty:
        raise StorageFileError(path, None, None, "no rows")
    return frame[list(columns)].apply(lambda c: c.str.strip())


def _numbers(path: Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    values: npt.NDArray[np.float64] = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raise StorageFileError(path, row + 2, column, f"not a number: {frame[column].iloc[row]!r}")
    return values


def _times(path: Path, frame: pd.DataFrame, column: str) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(frame[column], utc=True, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise StorageFileError(path, row + 2, column, f"not an ISO-8601 time: {frame[column].iloc[row]!r}")
    return pd.DatetimeIndex(parsed)


def _require_text(path: Path, frame: pd.DataFrame, column: str) -> None:
    empty = np.flatnonzero((frame[column] == "").to_numpy())
    if empty.size:
        raise StorageFileError(path, int(empty[0]) + 2, column, "empty")


@dataclass(frozen=True)
class Prices:
    starts: pd.DatetimeIndex
    dt_h: float
    import_price: np.ndarray
    export_price: np.ndarray


def prices_read(path: Path) -> Prices:
    frame = _read(path, PRICE_COLUMNS)
    starts = _times(path, frame, "interval_start")
    ends = _times(path, frame, "interval_end")
    steps = (ends - starts).total_seconds().to_numpy()
    if steps[0] <= 0:
        raise StorageFileError(path, 2, "interval_end", "must be after interval_start")
    unequal = np.flatnonzero(steps != steps[0])
    if unequal.size:
        raise StorageFileError(
            path, int(unequal[0]) + 2, "interval_end", "intervals must all have the same length"
        )
    gaps = np.flatnonzero(starts[1:] != ends[:-1])
    if gaps.size:
        raise StorageFileError(
            path, int(gaps[0]) + 3, "interval_start", "must equal the previous row's interval_end (no gaps)"
        )
    return Prices(
        starts=starts,
        dt_h=float(steps[0]) / 3600.0,
        import_price=_numbers(path, frame, "import_price_per_kwh"),
        export_price=_numbers(path, frame, "export_price_per_kwh"),
    )


def _fleet_read(path: Path) -> tuple[Fleet, dict[str, int]]:
    frame = _read(path, FLEET_COLUMNS)
    for column in ("unit", "feeder"):
        _require_text(path, frame, column)
    duplicated = np.flatnonzero(frame["unit"].duplicated().to_numpy())
    if duplicated.size:
        row = int(duplicated[0])
        raise StorageFileError(path, row + 2, "unit", f"unit {frame['unit'].iloc[row]} appears twice")
    arrays = {column: _numbers(path, frame, column) for column in FLEET_COLUMNS[2:]}
    fleet = Fleet(units=frame["unit"].tolist(), feeders=frame["feeder"].tolist(), **arrays)
    return fleet, {unit: i + 2 for i, unit in enumerate(fleet.units)}


def _profile_read(path: Path, fleet: Fleet, prices: Prices) -> np.ndarray:
    frame = _read(path, PROFILE_COLUMNS)
    _require_text(path, frame, "unit")
    kw = _numbers(path, frame, "kw")
    negative = np.flatnonzero(kw < 0)
    if negative.size:
        raise StorageFileError(path, int(negative[0]) + 2, "kw", "must not be negative")
    unit_index = pd.Index(fleet.units).get_indexer(frame["unit"])
    unknown = np.flatnonzero(unit_index < 0)
    if unknown.size:
        row = int(unknown[0])
        raise StorageFileError(path, row + 2, "unit", f"unit {frame['unit'].iloc[row]} is not in the fleet")
    starts = _times(path, frame, "interval_start")
    step_index = prices.starts.get_indexer(starts)
    outside = np.flatnonzero(step_index < 0)
    if outside.size:
        row = int(outside[0])
        raise StorageFileError(
            path,
            row + 2,
            "interval_start",
            f"{frame['interval_start'].iloc[row]} is not an interval of the prices",
        )
    steps = len(prices.starts)
    flat = unit_index.astype(np.int64) * steps + step_index
    duplicated = np.flatnonzero(pd.Series(flat).duplicated().to_numpy())
    if duplicated.size:
        raise StorageFileError(
            path, int(duplicated[0]) + 2, "interval_start", "this unit and interval appear twice"
        )
    counts = np.bincount(unit_index, minlength=len(fleet))
    partial = np.flatnonzero((counts > 0) & (counts < steps))
    if partial.size:
        unit = int(partial[0])
        first = int(np.flatnonzero(unit_index == unit)[0])
        raise StorageFileError(
            path, first + 2, "unit", f"unit {fleet.units[unit]} has {counts[unit]} of the {steps} intervals"
        )
    profile = np.zeros(len(fleet) * steps)
    profile[flat] = kw
    return profile.reshape(len(fleet), steps)


def _limits_read(path: Path) -> dict[str, tuple[float, float]]:
    frame = _read(path, LIMIT_COLUMNS)
    _require_text(path, frame, "feeder")
    duplicated = np.flatnonzero(frame["feeder"].duplicated().to_numpy())
    if duplicated.size:
        raise StorageFileError(path, int(duplicated[0]) + 2, "feeder", "feeder appears twice")
    limits = {}
    imports = _numbers(path, frame, "import_limit_kw")
    exports = _numbers(path, frame, "export_limit_kw")
    for column, values in (("import_limit_kw", imports), ("export_limit_kw", exports)):
        negative = np.flatnonzero(values < 0)
        if negative.size:
            raise StorageFileError(path, int(negative[0]) + 2, column, "must not be negative")
    for feeder, imp, exp in zip(frame["feeder"], imports, exports, strict=True):
        limits[feeder] = (float(imp), float(exp))
    return limits


def storage_problem_read(
    *,
    fleet_path: Path,
    prices_path: Path,
    pv_path: Path | None = None,
    load_path: Path | None = None,
    limits_path: Path | None = None,
) -> StorageProblem:
    """Read and check the files into one problem; raise StorageFileError naming file, line and column."""
    prices = prices_read(prices_path)
    fleet, fleet_lines = _fleet_read(fleet_path)
    steps = len(prices.starts)
    pv = _profile_read(pv_path, fleet, prices) if pv_path else np.zeros((len(fleet), steps))
    load = _profile_read(load_path, fleet, prices) if load_path else np.zeros((len(fleet), steps))
    problem = StorageProblem(
        fleet=fleet,
        dt_h=prices.dt_h,
        import_price=prices.import_price,
        export_price=prices.export_price,
        pv_kw=pv,
        load_kw=load,
        feeder_limits=_limits_read(limits_path) if limits_path else {},
        interval_starts=[t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in prices.starts],
    )
    try:
        problem_validate(problem)
    except StorageProblemError as exc:
        if exc.unit is not None and exc.field is not None:
            raise StorageFileError(fleet_path, fleet_lines[exc.unit], exc.field, str(exc)) from exc
        raise StorageFileError(fleet_path, None, None, str(exc)) from exc
    return problem


def schedule_write(path: Path, problem: StorageProblem, schedule: Schedule) -> None:
    """Write SCHEDULE.csv atomically (a temporary file renamed into place)."""
    n, steps = len(problem.fleet), problem.intervals
    starts = np.asarray(problem.interval_starts or [str(t) for t in range(steps)], dtype=object)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.asarray(problem.fleet.units, dtype=object), steps),
            "interval_start": np.tile(starts, n),
            # + 0.0 turns the solver's -0.0 into 0.0
            "charge_kw": schedule.charge_kw.ravel().round(6) + 0.0,
            "discharge_kw": schedule.discharge_kw.ravel().round(6) + 0.0,
            "soc_kwh": schedule.soc_kwh.ravel().round(6) + 0.0,
        }
    )
    directory = path.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=".schedule-", suffix=".csv", dir=directory)
    try:
        with os.fdopen(handle, "w", newline="") as out:
            frame.to_csv(out, index=False, float_format="%.6f")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def storage_optimize_files(
    *,
    fleet_path: Path,
    prices_path: Path,
    out_path: Path,
    pv_path: Path | None = None,
    load_path: Path | None = None,
    limits_path: Path | None = None,
    workers: int | None = None,
    say: Callable[[str], None] = lambda message: None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Read, optimise, write; return the summary the command prints with --json."""
    started = time.perf_counter()
    say("reading files")
    problem = storage_problem_read(
        fleet_path=fleet_path,
        prices_path=prices_path,
        pv_path=pv_path,
        load_path=load_path,
        limits_path=limits_path,
    )
    say(f"optimising {len(problem.fleet):,} units x {problem.intervals} intervals")
    schedule = schedule_optimize(problem, workers=workers, progress=progress)
    if schedule.feeders_coupled:
        say(f"feeder limits bind on {len(schedule.feeders_coupled)} feeders: solved jointly per feeder")
    say(f"writing {out_path}")
    schedule_write(out_path, problem, schedule)
    without = self_consumption_pct(problem, None)
    with_storage = self_consumption_pct(problem, schedule)
    return {
        "units": len(problem.fleet),
        "intervals": problem.intervals,
        "objective": round(schedule.objective, 2),
        "status": schedule.status,
        "seconds": round(time.perf_counter() - started, 2),
        "renewable_self_consumption_pct": {
            "without_storage": None if without is None else round(without, 1),
            "with_storage": None if with_storage is None else round(with_storage, 1),
        },
    }
