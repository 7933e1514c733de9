"""Unit tests of `metering.simulator`: shapes, determinism, the physics of each premise kind, local time
across DST changes, and one check against the committed sample of real London households."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metering.simulator import Premise, premise_from_attributes, round_kwh, simulate

LONDON = "Europe/London"
SAMPLE_CSV = Path(__file__).resolve().parents[3] / "data" / "households" / "lcl_2013_sample_wide.csv"
# 20 households in the UK's shares of household sizes (mean 2.35).
UK_RESIDENTS_20 = [1] * 6 + [2] * 7 + [3] * 3 + [4] * 3 + [5]


def local_days(first_day: str, days: int = 1, minutes: int = 30) -> np.ndarray:
    """UTC starts (naive datetime64[s]) of the intervals of whole local days in London."""
    start = pd.Timestamp(first_day, tz=LONDON)
    end = pd.Timestamp((start.tz_localize(None) + pd.Timedelta(days=days)).date(), tz=LONDON)
    index = pd.date_range(start, end, freq=f"{minutes}min", inclusive="left")
    return index.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]")


def local_hours(starts_utc: np.ndarray) -> np.ndarray:
    local = pd.DatetimeIndex(starts_utc).tz_localize("UTC").tz_convert(LONDON)
    return local.hour.to_numpy() + local.minute.to_numpy() / 60


def gas(residents: int = 2) -> Premise:
    return Premise(heating="gas", residents=residents, has_pv=False, has_battery=False)


def evening_peak_hour(starts_utc: np.ndarray, import_kwh: np.ndarray) -> float:
    """Local start hour of the half-hour with the highest mean import between 15:00 and midnight."""
    hours = local_hours(starts_utc)
    mean = np.where(hours >= 15, import_kwh.mean(axis=0), -1.0)
    return float(hours[np.argmax(mean)])


MIXED = [
    Premise(heating="gas", residents=1, has_pv=False, has_battery=False),
    Premise(heating="gas", residents=4, has_pv=True, has_battery=False),
    Premise(heating="heat_pump", residents=3, has_pv=True, has_battery=True, pv_kwp=5.0),
    Premise(heating="heat_pump", residents=2, has_pv=False, has_battery=False),
    Premise(heating="electric_storage", residents=2, has_pv=False, has_battery=False),
    Premise(heating="electric_storage", residents=6, has_pv=True, has_battery=True),
    Premise(heating="gas", residents=5, has_pv=False, has_battery=True),
]


def test_readings_are_non_negative_float_arrays_of_premises_by_intervals():
    starts = local_days("2024-04-01", days=7)

    import_kwh, export_kwh = simulate(MIXED, starts, seed=1)

    for readings in (import_kwh, export_kwh):
        assert readings.shape == (len(MIXED), 7 * 48)
        assert readings.dtype == np.float64
        assert np.all(np.isfinite(readings))
        assert readings.min() >= 0
    assert import_kwh.sum(axis=1).min() > 0


def test_same_seed_gives_identical_readings_and_another_seed_different_ones():
    starts = local_days("2024-01-15", days=2)

    first = simulate(MIXED, starts, seed=7)
    again = simulate(MIXED, starts, seed=7)
    other = simulate(MIXED, starts, seed=8)

    assert np.array_equal(first[0], again[0])
    assert np.array_equal(first[1], again[1])
    assert not np.allclose(first[0], other[0])


def test_households_differ_from_each_other():
    starts = local_days("2024-01-15", days=7)

    import_kwh, _ = simulate([gas()] * 50, starts, seed=3)

    weekly_kwh = import_kwh.sum(axis=1)
    assert weekly_kwh.std() / weekly_kwh.mean() > 0.2


def test_adding_premises_leaves_the_earlier_premises_readings_unchanged():
    starts = local_days("2024-06-01", days=2)

    few = simulate(MIXED, starts, seed=5)
    many = simulate(MIXED + [gas()] * 40, starts, seed=5)

    assert np.array_equal(few[0], many[0][: len(MIXED)])
    assert np.array_equal(few[1], many[1][: len(MIXED)])


def test_simulating_day_by_day_gives_the_same_readings_as_all_at_once():
    days = ["2024-06-10", "2024-06-11", "2024-06-12"]

    at_once = simulate(MIXED, np.concatenate([local_days(day) for day in days]), seed=3)
    day_by_day = [simulate(MIXED, local_days(day), seed=3) for day in days]

    assert np.allclose(at_once[0], np.concatenate([readings[0] for readings in day_by_day], axis=1))
    assert np.allclose(at_once[1], np.concatenate([readings[1] for readings in day_by_day], axis=1))


def test_temperature_per_premise_gives_the_same_readings_as_the_same_shared_temperature():
    starts = local_days("2024-02-07")
    shared_c = np.linspace(-2.0, 9.0, starts.size)

    shared = simulate(MIXED, starts, temperature_c=shared_c, seed=4)
    per_premise = simulate(MIXED, starts, temperature_c=np.tile(shared_c, (len(MIXED), 1)), seed=4)

    assert np.array_equal(shared[0], per_premise[0])


def test_heat_pumps_use_more_on_a_cold_day_than_on_a_mild_one():
    premises = [
        Premise(heating="heat_pump", residents=r, has_pv=False, has_battery=False) for r in (1, 2, 3, 4)
    ]
    starts = local_days("2024-02-07")

    cold, _ = simulate(premises * 10, starts, temperature_c=np.full(starts.size, 0.0), seed=2)
    mild, _ = simulate(premises * 10, starts, temperature_c=np.full(starts.size, 12.0), seed=2)

    assert np.all(cold.sum(axis=1) > mild.sum(axis=1))
    assert cold.sum() > 2 * mild.sum()


def test_gas_heated_homes_are_far_less_temperature_sensitive_than_heat_pumps():
    starts = local_days("2024-02-07")
    cold_c, mild_c = np.full(starts.size, 0.0), np.full(starts.size, 12.0)
    heat_pump = [Premise(heating="heat_pump", residents=2, has_pv=False, has_battery=False)] * 40

    heat_pump_rise = (
        simulate(heat_pump, starts, temperature_c=cold_c)[0].sum()
        / simulate(heat_pump, starts, temperature_c=mild_c)[0].sum()
    )
    gas_rise = (
        simulate([gas()] * 40, starts, temperature_c=cold_c)[0].sum()
        / simulate([gas()] * 40, starts, temperature_c=mild_c)[0].sum()
    )

    assert 1 < gas_rise < 1.3 < heat_pump_rise


def test_pv_exports_only_in_daylight():
    pv = [Premise(heating="gas", residents=r, has_pv=True, has_battery=False) for r in (1, 2, 3)] * 10
    june, december = local_days("2024-06-17", days=7), local_days("2024-12-16", days=7)

    _, june_export = simulate(pv, june, seed=4)
    _, december_export = simulate(pv, december, seed=4)

    # London: sunrise 04:43 and sunset 21:21 BST in mid-June, 08:03 and 15:52 GMT in mid-December.
    june_hours, december_hours = local_hours(june), local_hours(december)
    assert june_export[:, (june_hours >= 22) | (june_hours < 4.5)].max() == 0
    assert december_export[:, (december_hours >= 16) | (december_hours < 8)].max() == 0
    assert june_export[:, june_hours == 13].mean() > 0.2


def test_pv_exports_more_in_june_than_in_december():
    pv = [Premise(heating="heat_pump", residents=r, has_pv=True, has_battery=False) for r in (1, 2, 3)] * 10

    _, june_export = simulate(pv, local_days("2024-06-03", days=28), seed=4)
    _, december_export = simulate(pv, local_days("2024-12-02", days=28), seed=4)

    assert june_export.sum() > 5 * december_export.sum()


def test_pv_covers_the_homes_own_use_before_exporting():
    starts = local_days("2024-06-17", days=7)
    without_pv = [gas(r) for r in (1, 2, 3)] * 10
    with_pv = [Premise(heating="gas", residents=r, has_pv=True, has_battery=False) for r in (1, 2, 3)] * 10

    plain_import, _ = simulate(without_pv, starts, seed=6)
    pv_import, pv_export = simulate(with_pv, starts, seed=6)

    assert pv_import.sum() < 0.8 * plain_import.sum()
    assert np.all((pv_import == 0) | (pv_export == 0))


def test_battery_cuts_evening_import_and_moves_export_into_the_evening_peak():
    starts = local_days("2024-06-17", days=7)
    hours = local_hours(starts)
    evening, peak = hours >= 16, (hours >= 16) & (hours < 19)
    pv_only = [Premise(heating="gas", residents=r, has_pv=True, has_battery=False) for r in (1, 2, 3)] * 10
    pv_battery = [Premise(heating="gas", residents=r, has_pv=True, has_battery=True) for r in (1, 2, 3)] * 10

    import_pv, export_pv = simulate(pv_only, starts, seed=6)
    import_battery, export_battery = simulate(pv_battery, starts, seed=6)

    assert import_battery[:, evening].sum() < 0.7 * import_pv[:, evening].sum()
    assert export_battery[:, peak].sum() > export_pv[:, peak].sum()
    assert export_battery[:, ~evening].sum() < export_pv[:, ~evening].sum()
    assert import_battery[:, ~evening].sum() == pytest.approx(import_pv[:, ~evening].sum())


def test_storage_heating_concentrates_consumption_in_the_overnight_off_peak_window():
    starts = local_days("2024-01-15", days=7)
    hours = local_hours(starts)
    off_peak = (hours >= 0.5) & (hours < 7.5)
    storage = [
        Premise(heating="electric_storage", residents=r, has_pv=False, has_battery=False) for r in (1, 2, 3)
    ]

    storage_import, _ = simulate(storage * 10, starts, seed=9)
    gas_import, _ = simulate([gas(r) for r in (1, 2, 3)] * 10, starts, seed=9)

    assert storage_import[:, off_peak].sum() / storage_import.sum() > 0.6
    assert gas_import[:, off_peak].sum() / gas_import.sum() < 0.3
    assert storage_import[:, off_peak].mean() > 3 * storage_import[:, ~off_peak].mean()


@pytest.mark.parametrize(
    ("change_day", "week_before", "intervals", "latest_peak_hour"),
    [("2024-03-31", "2024-03-24", 46, 21.0), ("2024-10-27", "2024-10-20", 50, 20.0)],
    ids=["spring-forward", "fall-back"],
)
def test_evening_peak_stays_in_the_local_evening_across_a_dst_change(
    change_day, week_before, intervals, latest_peak_hour
):
    # In spring sunset jumps an hour later on the local clock and the lights with it: in the real 2013
    # London data the Sunday peak moved from 19:00 to 21:30 local on the day of the change.
    premises = [gas(r) for r in UK_RESIDENTS_20] * 20
    change_starts, before_starts = local_days(change_day), local_days(week_before)

    change_import, _ = simulate(premises, change_starts, seed=11)
    before_import, _ = simulate(premises, before_starts, seed=11)

    assert change_import.shape == (len(premises), intervals)
    assert 18 <= evening_peak_hour(before_starts, before_import) <= 20
    assert 18 <= evening_peak_hour(change_starts, change_import) <= latest_peak_hour


@pytest.mark.parametrize(
    ("day_before", "day_after", "intervals_after"),
    [
        ("2024-03-24", "2024-03-31", 46),  # Sundays: the change day itself
        ("2024-10-20", "2024-10-27", 50),
        ("2024-03-28", "2024-04-02", 48),  # weekdays either side
        ("2024-10-24", "2024-10-29", 48),
    ],
)
def test_profiles_either_side_of_a_dst_change_line_up_in_local_time(day_before, day_after, intervals_after):
    premises = [gas(r) for r in UK_RESIDENTS_20] * 20

    def local_profile(day: str) -> pd.Series:
        """Mean import per half-hour of the local clock (the repeated autumn hour averaged)."""
        starts = local_days(day)
        import_kwh, _ = simulate(premises, starts, seed=11)
        return pd.Series(import_kwh.mean(axis=0)).groupby((local_hours(starts) * 2).astype(int)).mean()

    before, after = local_profile(day_before), local_profile(day_after)

    def correlation(shift_half_hours: int) -> float:
        shifted = after.set_axis(after.index - shift_half_hours)
        common = before.index.intersection(shifted.index)
        return float(np.corrcoef(before[common], shifted[common])[0, 1])

    assert local_days(day_after).size == intervals_after
    # Were the day's activity tied to UTC instead, the profiles would match best an hour apart.
    assert correlation(0) > max(correlation(-2), correlation(2))


def test_more_residents_use_more():
    starts = local_days("2024-03-04", days=7)

    weekly_kwh = [simulate([gas(r)] * 100, starts, seed=13)[0].sum() / 100 for r in range(1, 7)]

    assert all(a < b for a, b in itertools.pairwise(weekly_kwh))
    assert weekly_kwh[3] > 1.5 * weekly_kwh[0]


def test_interval_length_changes_resolution_not_energy():
    premises = [gas(r) for r in UK_RESIDENTS_20]

    half_hourly, _ = simulate(premises, local_days("2024-01-08", days=7), seed=14)
    quarter_hourly, _ = simulate(
        premises, local_days("2024-01-08", days=7, minutes=15), seed=14, interval_minutes=15
    )

    assert quarter_hourly.shape[1] == 2 * half_hourly.shape[1]
    assert quarter_hourly.sum() == pytest.approx(half_hourly.sum(), rel=0.05)


def test_january_daily_mean_of_gas_homes_is_within_25_percent_of_the_real_sample():
    sample = pd.read_csv(SAMPLE_CSV, index_col=0, parse_dates=True)
    january = sample.loc["2013-01"]
    # Per-household mean over the half-hours it has readings for (one household left in February).
    real_kwh_per_day = (january.mean() * 48).mean()
    starts = january.index.to_numpy().astype("datetime64[s]")
    premises = [gas(r) for r in UK_RESIDENTS_20]

    # 20 simulated households vary by ~15 % between draws, so five independent draws are averaged.
    simulated_kwh_per_day = np.mean([simulate(premises, starts, seed=s)[0].mean() * 48 for s in range(5)])

    assert simulated_kwh_per_day == pytest.approx(real_kwh_per_day, rel=0.25)


def test_round_kwh_rounds_to_whole_watt_hours():
    assert np.array_equal(round_kwh(np.array([0.12345, 1.0004, 0.0])), np.array([0.123, 1.0, 0.0]))


def test_premise_from_attributes_uses_the_default_pv_size():
    premise = premise_from_attributes("heat_pump", 3, True, False)

    assert premise == Premise(heating="heat_pump", residents=3, has_pv=True, has_battery=False, pv_kwp=3.5)


@pytest.mark.parametrize(
    "attributes",
    [
        {"heating": "oil", "residents": 2},
        {"heating": "gas", "residents": 0},
        {"heating": "gas", "residents": 7},
    ],
)
def test_premise_with_unknown_heating_or_residents_out_of_range_is_rejected(attributes):
    with pytest.raises(ValueError, match=r"heating|residents"):
        Premise(has_pv=False, has_battery=False, **attributes)


def test_starts_out_of_order_are_rejected():
    starts = local_days("2024-01-01")[::-1]

    with pytest.raises(ValueError, match="increasing"):
        simulate([gas()], starts)


def test_temperature_of_the_wrong_length_is_rejected():
    starts = local_days("2024-01-01")

    with pytest.raises(ValueError, match="temperature_c"):
        simulate([gas()], starts, temperature_c=np.zeros(starts.size - 1))
