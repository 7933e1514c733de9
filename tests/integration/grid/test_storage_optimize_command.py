"""`storage_optimize` as CLI.md says: files in, SCHEDULE.csv out, --json on stdout, clear one-line errors."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from grid.optimize.storage import Schedule, schedule_violations
from grid.optimize.storage_files import storage_problem_read
from grid.optimize.synthetic import problem_files_write, synthetic_problem


@pytest.fixture
def files(tmp_path):
    problem = synthetic_problem(8, units_per_feeder=4, limit_fraction=0.8, seed=3)
    paths = problem_files_write(problem, tmp_path)
    paths["out"] = tmp_path / "schedule.csv"
    return paths


def run(paths, *extra):
    stdout, stderr = StringIO(), StringIO()
    arguments = ["--fleet", paths["fleet"], "--prices", paths["prices"], "--out", paths["out"]]
    for option in ("pv", "load"):
        if option in paths:
            arguments += [f"--{option}", paths[option]]
    if "limits" in paths:
        arguments += ["--feeder-limits", paths["limits"]]
    call_command(
        "storage_optimize", *map(str, arguments), "--workers", "1", *extra, stdout=stdout, stderr=stderr
    )
    return stdout.getvalue(), stderr.getvalue()


def test_the_schedule_file_holds_every_unit_and_interval_and_is_feasible(files):
    stdout, _stderr = run(files)

    schedule_csv = pd.read_csv(files["out"])
    assert list(schedule_csv.columns) == ["unit", "interval_start", "charge_kw", "discharge_kw", "soc_kwh"]
    assert len(schedule_csv) == 8 * 96
    assert schedule_csv["interval_start"].iloc[0] == "2026-01-15T00:00:00Z"
    # re-read the inputs and check the written schedule without any solver
    problem = storage_problem_read(
        fleet_path=files["fleet"],
        prices_path=files["prices"],
        pv_path=files["pv"],
        load_path=files["load"],
        limits_path=files["limits"],
    )
    shaped = {c: schedule_csv[c].to_numpy().reshape(8, 96) for c in ("charge_kw", "discharge_kw", "soc_kwh")}
    written = Schedule(shaped["charge_kw"], shaped["discharge_kw"], shaped["soc_kwh"], 0.0, "optimal")
    assert schedule_violations(problem, written, tolerance=1e-5) == []
    assert "units x 96 intervals: optimal" in stdout


def test_json_is_one_object_on_stdout_and_progress_goes_to_stderr(files):
    stdout, stderr = run(files, "--json")

    summary = json.loads(stdout)
    assert set(summary) == {
        "units",
        "intervals",
        "objective",
        "status",
        "seconds",
        "renewable_self_consumption_pct",
    }
    assert summary["units"] == 8
    assert summary["intervals"] == 96
    assert summary["status"] == "optimal"
    pct = summary["renewable_self_consumption_pct"]
    assert pct["with_storage"] > pct["without_storage"]
    assert "storage_optimize: optimising 8 units" in stderr


def test_json_mode_prints_nothing_else_on_stdout_in_a_real_process(files):
    root = Path(__file__).resolve().parents[3]
    arguments = [sys.executable, str(root / "manage.py"), "storage_optimize", "--json", "--workers", "2"]
    for option, name in (
        ("--fleet", "fleet"),
        ("--prices", "prices"),
        ("--pv", "pv"),
        ("--load", "load"),
        ("--feeder-limits", "limits"),
        ("--out", "out"),
    ):
        arguments += [option, str(files[name])]

    done = subprocess.run(arguments, capture_output=True, text=True, timeout=120, check=False, cwd=root)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["units"] == 8
    assert "storage_optimize: writing" in done.stderr


def test_without_pv_and_load_the_units_trade_with_the_grid_only(files):
    del files["pv"], files["load"], files["limits"]

    stdout, _stderr = run(files, "--json")

    summary = json.loads(stdout)
    assert summary["objective"] <= 0  # no load to serve: the battery only trades when it pays
    assert summary["renewable_self_consumption_pct"] == {"without_storage": None, "with_storage": None}


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (
            "fleet",
            lambda f: f.assign(power_kw=f["power_kw"].astype(str).where(f.index != 2, "lots")),
            "fleet.csv: line 4, column power_kw: not a number: 'lots'",
        ),
        (
            "fleet",
            lambda f: f.drop(columns=["soc_max_kwh"]),
            "fleet.csv: line 1, column soc_max_kwh: missing column",
        ),
        (
            "fleet",
            lambda f: f.assign(soc_initial_kwh=f["soc_initial_kwh"].where(f.index != 1, 99.0)),
            "fleet.csv: line 3, column soc_initial_kwh: unit U00001: soc_initial_kwh must be within",
        ),
        (
            "prices",
            lambda f: f.assign(interval_end=f["interval_end"].where(f.index != 5, "2026-01-15T02:00:00Z")),
            "prices.csv: line 7, column interval_end: intervals must all have the same length",
        ),
        (
            "pv",
            lambda f: f.assign(unit=f["unit"].where(f.index != 10, "NOPE")),
            "pv.csv: line 12, column unit: unit NOPE is not in the fleet",
        ),
        (
            "load",
            lambda f: f.assign(kw=f["kw"].where(f.index != 0, -1.0)),
            "load.csv: line 2, column kw: must not be negative",
        ),
        (
            "limits",
            lambda f: f.assign(import_limit_kw="x"),
            "limits.csv: line 2, column import_limit_kw: not a number",
        ),
    ],
)
def test_a_bad_file_names_file_line_and_column_and_writes_nothing(files, name, edit, message):
    edit(pd.read_csv(files[name])).to_csv(files[name], index=False)

    with pytest.raises(CommandError) as caught:
        run(files)

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert not files["out"].exists()


def test_limits_the_fleet_cannot_meet_are_reported_and_nothing_is_written(files):
    limits = pd.read_csv(files["limits"])
    limits["import_limit_kw"] = 0.5
    limits.to_csv(files["limits"], index=False)

    with pytest.raises(CommandError, match=r"^feeder F0000: the limits cannot be met over the day"):
        run(files)
    assert not files["out"].exists()


def test_negative_prices_give_an_exclusive_schedule(files):
    prices = pd.read_csv(files["prices"])
    prices.loc[40:55, "export_price_per_kwh"] = -0.3
    prices.loc[40:55, "import_price_per_kwh"] = -0.2
    prices.to_csv(files["prices"], index=False)
    fleet = pd.read_csv(files["fleet"]).head(2)
    fleet.to_csv(files["fleet"], index=False)
    for name in ("pv", "load"):
        profile = pd.read_csv(files[name])
        profile[profile["unit"].isin(fleet["unit"])].to_csv(files[name], index=False)
    del files["limits"]

    run(files)

    schedule_csv = pd.read_csv(files["out"])
    assert not np.any((schedule_csv["charge_kw"] > 0) & (schedule_csv["discharge_kw"] > 0))
