"""Unit tests of `metering.vee` (pure): expected intervals across DST, gap runs, interpolation, the
weekday-slot profile, and the spike and stuck thresholds at their edges."""

import numpy as np
import pandas as pd
import pytest

from metering import vee

LONDON = "Europe/London"
ACTUAL, ESTIMATED = 1, 2
FAR = 2**40


def at(local: str, zone: str = LONDON) -> int:
    """Epoch seconds of a local wall-clock time (pandas picks the first of a repeated time)."""
    return int(pd.Timestamp(local, tz=zone).timestamp())


def utc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").timestamp())


class Block:
    """One meter's window over a period, with helpers to place readings."""

    def __init__(self, period_start: int, period_end: int, resolution_s: int = 1800, zone: str = LONDON):
        self.window = vee.window_build(
            timezone=zone, resolution_s=resolution_s, period_start_s=period_start, period_end_s=period_end
        )
        self.kwh = np.full((1, len(self.window)), vee.ABSENT, dtype="int64")
        self.quality = np.zeros((1, len(self.window)), dtype="int8")

    def put(self, start_s: int, kwh_e4: int, quality: int = ACTUAL) -> None:
        col = self.window.col(start_s)
        self.kwh[0, col] = kwh_e4
        self.quality[0, col] = quality

    def fill_period(self, kwh_e4: int = 1000, except_starts=()) -> None:
        for start in self.window.starts[self.window.period_col :].tolist():
            if start not in except_starts:
                self.put(start, kwh_e4)

    def expected(self, as_of: int = FAR, installed: int = 0) -> np.ndarray:
        return vee.expected_mask(self.window, lo_s=np.array([installed]), hi_s=np.array([FAR]), as_of_s=as_of)

    def gaps(self, **kwargs) -> vee.Gaps:
        return vee.find_gaps(self.window, self.kwh, self.quality, self.expected(**kwargs))

    def starts(self, cols) -> list[int]:
        return self.window.starts[np.asarray(cols)].tolist()


# --- expected intervals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "next_day", "count"),
    [("2024-03-31", "2024-04-01", 46), ("2024-10-27", "2024-10-28", 50), ("2024-06-01", "2024-06-02", 48)],
)
def test_a_local_london_day_has_46_48_or_50_half_hours(day, next_day, count):
    grid = vee.interval_grid(at(day), at(next_day), LONDON, 1800)

    assert len(grid) == count
    assert (np.diff(grid) == 1800).all()  # UTC steps: nothing lost, nothing doubled


def test_hourly_intervals_align_to_the_local_hour_in_a_half_hour_offset_zone():
    grid = vee.interval_grid(
        at("2024-06-01", "Asia/Kolkata"), at("2024-06-02", "Asia/Kolkata"), "Asia/Kolkata", 3600
    )

    assert len(grid) == 24
    assert grid[0] == utc("2024-05-31 18:30")


def test_the_spring_day_expects_46_intervals_and_none_in_the_skipped_hour():
    block = Block(at("2024-03-31"), at("2024-04-01"))
    block.fill_period(except_starts={utc("2024-03-31 00:30")})  # local 00:30 GMT

    gaps = block.gaps()

    assert block.expected().sum() == 46
    assert block.starts(gaps.start_col) == [utc("2024-03-31 00:30")]
    assert gaps.lengths.tolist() == [1]


def test_a_missing_repeated_0100_on_the_autumn_day_is_found_once_per_occurrence():
    first, second = utc("2024-10-27 00:00"), utc("2024-10-27 01:00")  # 01:00 BST, then 01:00 GMT
    only_first = Block(at("2024-10-27"), at("2024-10-28"))
    only_first.fill_period(except_starts={first})
    both = Block(at("2024-10-27"), at("2024-10-28"))
    both.fill_period(except_starts={first, second})

    one, two = only_first.gaps(), both.gaps()

    assert only_first.expected().sum() == 50
    assert only_first.starts(one.start_col) == [first]
    assert one.lengths.tolist() == [1]
    assert both.starts(two.start_col) == [first, second]
    assert two.lengths.tolist() == [1, 1]


def test_intervals_before_installation_or_not_ended_by_as_of_are_not_expected():
    block = Block(utc("2024-06-01"), utc("2024-06-02"))

    expected = block.expected(installed=utc("2024-06-01 10:00"), as_of=utc("2024-06-01 12:10"))

    starts = block.window.starts[expected[0]]
    assert starts.min() == utc("2024-06-01 10:00")
    assert starts.max() == utc("2024-06-01 11:30")  # 12:00-12:30 has not ended at 12:10
    assert len(starts) == 4


# --- estimation ----------------------------------------------------------------------------------------


def test_interpolation_values_are_rounded_half_up_to_the_ten_thousandth():
    # 0.1000 → 0.2001 kWh over 3 missing: 0.1000 + 0.1001 × i/4 = 0.125025, 0.15005, 0.175075
    assert vee.interpolate([1000], [2001], [3]).tolist() == [1250, 1501, 1751]
    assert vee.interpolate([4000, 0], [0, 3], [1, 2]).tolist() == [2000, 1, 2]


def test_a_short_gap_with_readings_on_both_sides_is_interpolated():
    block = Block(utc("2024-06-01"), utc("2024-06-02"))
    block.fill_period()
    missing = [
        utc("2024-06-01 10:00"),
        utc("2024-06-01 10:30"),
        utc("2024-06-01 11:00"),
        utc("2024-06-01 11:30"),
    ]
    for start in missing:
        block.kwh[0, block.window.col(start)] = vee.ABSENT
    block.put(utc("2024-06-01 09:30"), 1000)
    block.put(utc("2024-06-01 12:00"), 2000)

    gaps = block.gaps()

    assert gaps.method.tolist() == [vee.Method.INTERPOLATION]
    assert block.starts(gaps.estimate_col) == missing
    assert gaps.estimate_kwh_e4.tolist() == [1200, 1400, 1600, 1800]


def test_a_short_gap_at_the_edge_takes_the_profile_and_without_history_stays_unestimated():
    block = Block(utc("2024-06-01"), utc("2024-06-02"))
    block.fill_period(except_starts={utc("2024-06-01 00:00"), utc("2024-06-01 00:30")})

    gaps = block.gaps()

    assert gaps.method.tolist() == [vee.Method.NOT_ESTIMATED]
    assert len(gaps.estimate_row) == 0  # never zeros for lack of data


def test_a_long_gap_takes_the_mean_of_the_actuals_at_the_same_local_weekday_and_slot():
    # Sunday 7 April 2024 (BST); one week back is the spring DST day, two to four weeks back are GMT,
    # so the same local slot is an hour later in UTC there.
    day = "2024-04-07"
    block = Block(at(day), at("2024-04-08"))
    gap = [at(f"{day} {h:02d}:{m:02d}") for h in range(9, 13) for m in (0, 30)]  # 8 intervals
    block.fill_period(except_starts=set(gap))
    for slot in range(8):
        hour, minute = 9 + slot // 2, 30 * (slot % 2)
        block.put(at(f"2024-03-31 {hour:02d}:{minute:02d}"), 1000 + slot)  # BST: 08:00Z + slot
        block.put(at(f"2024-03-24 {hour:02d}:{minute:02d}"), 2000)  # GMT: 09:00Z + slot
        block.put(at(f"2024-03-17 {hour:02d}:{minute:02d}"), 4000)
        block.put(at(f"2024-03-10 {hour:02d}:{minute:02d}"), 9999, quality=ESTIMATED)  # not an actual
        block.put(at(f"2024-03-30 {hour:02d}:{minute:02d}"), 50_000)  # other weekday: ignored

    gaps = block.gaps()

    assert gaps.method.tolist() == [vee.Method.PROFILE]
    assert block.starts(gaps.estimate_col) == gap
    # (1000 + slot + 2000 + 4000) / 3, half up: 2333.33, 2333.67, 2334, 2334.33, ...
    assert gaps.estimate_kwh_e4.tolist() == [2333, 2334, 2334, 2334, 2335, 2335, 2335, 2336]
    assert at("2024-03-31 09:00") == utc("2024-03-31 08:00")
    assert at("2024-03-24 09:00") == utc("2024-03-24 09:00")


def test_a_long_gap_with_a_slot_without_history_is_left_unestimated_as_a_whole():
    day = "2024-06-08"
    block = Block(at(day), at("2024-06-09"))
    gap = [at(f"{day} {h:02d}:{m:02d}") for h in range(9, 12) for m in (0, 30)]
    block.fill_period(except_starts=set(gap))
    for start in gap[:-1]:
        block.put(start - 7 * 86400, 3000)

    gaps = block.gaps()

    assert gaps.method.tolist() == [vee.Method.NOT_ESTIMATED]
    assert len(gaps.estimate_row) == 0


def test_a_profile_on_the_day_after_the_autumn_change_reads_the_slot_once_per_week():
    # One week before Sunday 3 November is the autumn DST day, whose 01:00 and 01:30 exist twice.
    block = Block(at("2024-11-03"), at("2024-11-04"))
    gap = [at(f"2024-11-03 {t}") for t in ("01:00", "01:30", "02:00", "02:30", "03:00")]
    block.fill_period(except_starts=set(gap))
    block.put(utc("2024-10-27 00:00"), 1000)  # 01:00 BST
    block.put(utc("2024-10-27 01:00"), 3000)  # 01:00 GMT
    block.put(utc("2024-10-27 00:30"), 500)  # 01:30 BST (01:30 GMT has no reading)
    for hour, value in (("02:00", 800), ("02:30", 600), ("03:00", 900)):
        block.put(utc(f"2024-10-27 {hour}"), value)

    gaps = block.gaps()

    assert gaps.method.tolist() == [vee.Method.PROFILE]
    assert gaps.estimate_kwh_e4.tolist() == [2000, 500, 800, 600, 900]


# --- spikes and stuck values ---------------------------------------------------------------------------


def history_block(values_e4: list[int], resolution_s: int = 1800) -> Block:
    block = Block(utc("2024-06-29"), utc("2024-06-30"), resolution_s=resolution_s)
    for i, value in enumerate(values_e4):
        block.kwh[0, block.window.median_col + i] = value
        block.quality[0, block.window.median_col + i] = ACTUAL
    return block


def spike_values(block: Block, readings: list[int]) -> list[int]:
    for i, value in enumerate(readings):
        block.put(utc("2024-06-29") + 2 * i * block.window.resolution_s, value)
    spikes = vee.find_spikes(block.window, block.kwh, block.quality)
    return block.kwh[0, spikes.col].tolist()


def test_a_spike_is_a_reading_above_ten_times_the_four_week_median():
    block = history_block([1000, 3000] * 200 + [2000])  # median 0.2000 kWh → threshold 2.0000 kWh

    assert spike_values(block, [19_999, 20_000, 20_001]) == [20_001]
    spikes = vee.find_spikes(block.window, block.kwh, block.quality)
    assert spikes.threshold_e4.tolist() == [20_000.0]


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two():
    block = history_block([1000, 4000, 3000, 2000] * 100)  # median 0.2500 → 2.5000 kWh

    assert spike_values(block, [25_000, 25_001]) == [25_001]


def test_with_a_zero_median_the_spike_floor_of_one_kwh_per_half_hour_applies():
    block = history_block([0] * 336)  # a week of zeros: the floor decides

    assert spike_values(block, [9_999, 10_000, 10_001]) == [10_001]


def test_without_a_week_of_actual_history_nothing_is_called_a_spike():
    block = history_block([1000] * 335)  # one half-hour short of a week

    assert spike_values(block, [10_001, 90_000]) == []


def test_the_spike_floor_scales_with_resolution():
    quarter = history_block([0] * 672, resolution_s=900)  # a week, median 0: the floor 0.5000 kWh decides

    assert spike_values(quarter, [5_000, 5_001]) == [5_001]


def test_estimated_readings_are_never_flagged_as_spikes():
    block = history_block([])
    block.put(utc("2024-06-29 10:00"), 90_000, quality=ESTIMATED)

    assert len(vee.find_spikes(block.window, block.kwh, block.quality).row) == 0


def stuck_block(run: list[int], start: str = "2024-06-29 06:00", quality: int = ACTUAL) -> Block:
    block = Block(utc("2024-06-29"), utc("2024-06-30"))
    for i, value in enumerate(run):
        block.put(utc(start) + i * 1800, value, quality=quality)
    return block


def stuck_runs(block: Block) -> list[tuple[int, int, int]]:
    stuck = vee.find_stuck(block.window, block.kwh, block.quality)
    return [
        (int(block.window.starts[s]), e - s, v)
        for s, e, v in zip(
            stuck.start_col.tolist(), stuck.end_col.tolist(), stuck.kwh_e4.tolist(), strict=True
        )
    ]


def test_eleven_equal_values_are_not_stuck_and_twelve_are():
    assert stuck_runs(stuck_block([500] + [1234] * 11 + [500])) == []
    assert stuck_runs(stuck_block([500] + [1234] * 12 + [500])) == [(utc("2024-06-29 06:30"), 12, 1234)]


def test_zeros_and_estimates_are_never_stuck():
    assert stuck_runs(stuck_block([0] * 30)) == []
    assert stuck_runs(stuck_block([700] * 30, quality=ESTIMATED)) == []


def test_a_missing_interval_breaks_a_run():
    block = stuck_block([700] * 20)
    block.kwh[0, block.window.col(utc("2024-06-29 10:00"))] = vee.ABSENT

    assert stuck_runs(block) == []  # 8 + 11


def test_a_stuck_run_reaching_into_the_period_keeps_its_start_in_the_history():
    block = stuck_block([700] * 16, start="2024-06-28 22:00")

    assert stuck_runs(block) == [(utc("2024-06-28 22:00"), 16, 700)]
    assert stuck_runs(stuck_block([700] * 16, start="2024-06-28 10:00")) == []  # ended before the period


@pytest.mark.parametrize(
    ("zone", "day", "next_day"),
    [(LONDON, "2024-10-27", "2024-10-28"), ("Australia/Lord_Howe", "2024-04-07", "2024-04-08")],
)
def test_readings_land_on_their_grid_column_and_off_grid_ones_are_ignored(zone, day, next_day):
    window = vee.window_build(
        timezone=zone, resolution_s=3600, period_start_s=at(day, zone), period_end_s=at(next_day, zone)
    )
    starts = window.starts[window.period_col :]
    off_grid = np.array([starts[0] + 900, window.starts[0] - 3600, window.starts[-1] + 3600])

    kwh, quality = vee.readings_matrix(
        window,
        n_rows=1,
        rows=np.zeros(len(starts) + 3, dtype="int64"),
        starts_s=np.concatenate([starts, off_grid]),
        kwh_e4=np.arange(len(starts) + 3),
        quality=np.ones(len(starts) + 3, dtype="int8"),
    )

    assert kwh[0, window.period_col :].tolist() == list(range(len(starts)))
    assert (kwh[0, : window.period_col] == vee.ABSENT).all()
    assert quality.sum() == len(starts)
