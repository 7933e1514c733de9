"""`readings_import` on the committed sample of real London households and on long files."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from metering.models import Meter, Reading
from tests.factories.metering import make_meter

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[3] / "data" / "households" / "lcl_2013_sample_wide.csv"


def run(*args) -> str:
    out = StringIO()
    call_command("readings_import", *map(str, args), "--no-progress", stdout=out)
    return out.getvalue()


def test_the_wide_household_sample_imports_every_present_cell_once():
    frame = pd.read_csv(SAMPLE)
    present = int(frame.iloc[:, 1:].notna().sum().sum())

    out = run(
        SAMPLE, "--create-meters", "Europe/London", "--assume-tz", "UTC", "--installed-at", "2012-01-01"
    )
    again = run(SAMPLE, "--assume-tz", "UTC")

    assert Meter.objects.count() == frame.shape[1] - 1 == 20
    assert Reading.objects.count() == present
    assert f"{present:,} accepted" in out
    assert f"0 accepted (0 revisions), {present:,} duplicates, 0 rejected" in again
    first = frame.columns[1]
    reading = Reading.objects.get(meter__serial=first, interval_start="2013-01-01T00:30:00Z")
    assert reading.energy_kwh == Decimal(str(frame.loc[1, first])).quantize(Decimal("0.0001"))
    assert reading.interval_end.isoformat() == "2013-01-01T01:00:00+00:00"


def test_a_household_that_left_early_has_no_readings_after_it_left():
    run(SAMPLE, "--create-meters", "Europe/London", "--assume-tz", "UTC", "--installed-at", "2012-01-01")
    frame = pd.read_csv(SAMPLE)
    leaver = next(c for c in frame.columns[1:] if frame[c].isna().any())

    assert Reading.objects.filter(meter__serial=leaver).count() == int(frame[leaver].notna().sum())


def test_naive_timestamps_are_refused_without_a_zone(tmp_path):
    make_meter("M-1")
    path = tmp_path / "naive.csv"
    path.write_text(
        "meter_serial,interval_start,interval_end,kwh\nM-1,2024-01-15 00:00,2024-01-15 00:30,0.1\n"
    )

    out = run(path)

    assert "line 2: invalid_timestamp (intervalStart)" in out
    assert not Reading.objects.exists()


def test_long_file_rejects_bad_lines_by_line_number_and_writes_the_rest(tmp_path):
    make_meter("M-1")
    path = tmp_path / "day.csv"
    path.write_text(
        "meter_serial,interval_start,interval_end,kwh\n"
        "M-1,2024-01-15T00:00:00Z,2024-01-15T00:30:00Z,0.25\n"
        "M-1,2024-01-15T00:30:00Z,2024-01-15T01:00:00Z,abc\n"
        "M-2,2024-01-15T00:30:00Z,2024-01-15T01:00:00Z,0.1\n"
        "M-1,2024-01-15T01:00:00Z,2024-01-15T01:30:00Z,\n"
    )

    out = run(path)

    assert "line 3: invalid_number (kwh)" in out
    assert "line 4: unknown_meter (meterSerial)" in out
    assert "line 5: invalid_number (kwh)" in out
    assert list(Reading.objects.values_list("energy_kwh", flat=True)) == [Decimal("0.2500")]


def test_all_or_nothing_fails_and_writes_nothing(tmp_path):
    make_meter("M-1")
    path = tmp_path / "day.csv"
    path.write_text(
        "serial,start,end,kwh\nM-1,2024-01-15T00:00:00Z,2024-01-15T00:30:00Z,0.25\n"
        "M-1,2024-01-15T00:30:00Z,2024-01-15T01:00:00Z,-3\n"
    )

    with pytest.raises(CommandError, match="nothing was written"):
        run(path, "--all-or-nothing")
    assert not Reading.objects.exists()


def test_an_unknown_header_is_a_clear_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")

    with pytest.raises(CommandError, match="unknown header"):
        run(path)
