import datetime as dt
import itertools
import math
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import analytics
from pricing.analytics import DailyAverage, PeriodSummary

NAN = float("nan")


def hourly(values: list[float], start: str) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="h"), dtype=float)


@pytest.fixture
def monday() -> pd.Series:
    """Monday 2024-03-04 in Europe/Berlin (CET, UTC+1), position = local hour, with the features of real
    day-ahead data: a -500 floor hour, a negative and a zero price, and two missing hours."""
    off_peak_morning = [50, 45, 40, 38, 37, 40, 55, 70]  # local 00-07, sum 375
    peak = [80, 60, 20, 0, -10, -500, NAN, 5, 30, 90, 120, 110]  # local 08-19, sum 5 over 11 hours
    off_peak_evening = [100, 85, NAN, 60]  # local 20-23, sum 245 over 3 hours
    return hourly(off_peak_morning + peak + off_peak_evening, "2024-03-03T23:00Z")


def test_vwap_weights_each_hour_by_its_volume():
    prices = hourly([10, 20, 30], "2024-03-04T00:00Z")
    volumes = hourly([1, 2, 1], "2024-03-04T00:00Z")

    assert analytics.vwap(prices, volumes) == Decimal("20.00")  # (10 + 40 + 30) / 4


def test_vwap_skips_hours_missing_a_price_or_a_volume_and_counts_them():
    prices = hourly([-500, 100, NAN, 40], "2024-03-04T00:00Z")
    volumes = hourly([1, 3, 5, NAN], "2024-03-04T00:00Z")

    assert analytics.vwap(prices, volumes) == Decimal("-50.00")  # (-500 + 300) / 4
    assert analytics.skipped_hours(prices, volumes) == 2


def test_vwap_refuses_a_zero_total_volume():
    prices = hourly([10, 20], "2024-03-04T00:00Z")

    with pytest.raises(ValueError, match="total volume is 0"):
        analytics.vwap(prices, hourly([0, 0], "2024-03-04T00:00Z"))


@pytest.mark.parametrize(
    ("volumes", "message"),
    [
        (hourly([1, 2], "2024-03-04T01:00Z"), "same index"),
        (hourly([1, -2], "2024-03-04T00:00Z"), ">= 0"),
    ],
)
def test_vwap_refuses_misaligned_or_negative_volumes(volumes, message):
    with pytest.raises(ValueError, match=message):
        analytics.vwap(hourly([10, 20], "2024-03-04T00:00Z"), volumes)


def test_absent_rows_count_as_skipped_hours_like_nan(monday):
    with_gap = monday.drop(pd.Timestamp("2024-03-04T02:00Z"))

    assert analytics.skipped_hours(monday) == 2
    assert analytics.skipped_hours(with_gap) == 3


def test_a_weekday_splits_into_peak_and_off_peak_skipping_missing_hours(monday):
    days = analytics.period_averages(monday, timezone="Europe/Berlin")

    assert days == [
        DailyAverage(
            date=dt.date(2024, 3, 4),
            average=Decimal("28.41"),  # 625 / 22
            peak_average=Decimal("0.45"),  # 5 / 11
            off_peak_average=Decimal("56.36"),  # 620 / 11
            hours=24,
            skipped_hours=2,
        )
    ]


def test_days_are_cut_at_local_midnight_of_the_market():
    prices = hourly([10, 20, 30], "2024-03-04T22:00Z")  # 23:00, 00:00, 01:00 in Berlin

    berlin = analytics.period_averages(prices, timezone="Europe/Berlin")
    utc = analytics.period_averages(prices, timezone="UTC")

    assert [(d.date, d.average, d.hours) for d in berlin] == [
        (dt.date(2024, 3, 4), Decimal("10.00"), 1),
        (dt.date(2024, 3, 5), Decimal("25.00"), 2),
    ]
    assert [(d.date, d.average, d.hours) for d in utc] == [
        (dt.date(2024, 3, 4), Decimal("15.00"), 2),
        (dt.date(2024, 3, 5), Decimal("30.00"), 1),
    ]


def test_the_autumn_dst_day_has_25_hours_and_12_peak_hours():
    # 2024-10-27 in Berlin: local 00, 01, 02, 02, 03 ... 23; local 08-19 are positions 9-20.
    prices = hourly([10] * 9 + [40] * 12 + [10] * 4, "2024-10-26T22:00Z")

    [day] = analytics.period_averages(prices, timezone="Europe/Berlin", peak_weekdays_only=False)

    assert day == DailyAverage(
        date=dt.date(2024, 10, 27),
        average=Decimal("24.40"),  # (12 * 40 + 13 * 10) / 25
        peak_average=Decimal("40.00"),
        off_peak_average=Decimal("10.00"),
        hours=25,
        skipped_hours=0,
    )


def test_the_spring_dst_day_has_23_hours():
    # 2024-03-31 in Berlin: local 00, 01, 03 ... 23; local 08-19 are positions 7-18.
    prices = hourly([10] * 7 + [40] * 12 + [10] * 4, "2024-03-30T23:00Z")

    [day] = analytics.period_averages(prices, timezone="Europe/Berlin", peak_weekdays_only=False)

    assert (day.hours, day.average, day.peak_average, day.off_peak_average) == (
        23,
        Decimal("25.65"),  # (12 * 40 + 11 * 10) / 23 = 25.652...
        Decimal("40.00"),
        Decimal("10.00"),
    )


def test_a_sunday_has_no_peak_under_the_weekday_convention():
    prices = hourly([10] * 9 + [40] * 12 + [10] * 4, "2024-10-26T22:00Z")

    [day] = analytics.period_averages(prices, timezone="Europe/Berlin")

    assert (day.peak_average, day.off_peak_average) == (None, Decimal("24.40"))


def test_custom_peak_hours_covering_the_whole_day_leave_no_off_peak(monday):
    [day] = analytics.period_averages(monday, timezone="Europe/Berlin", peak_hours=(0, 24))

    assert (day.peak_average, day.off_peak_average) == (Decimal("28.41"), None)


def test_averages_round_half_up_to_the_cent():
    prices = hourly([0.25, 0.0], "2024-03-04T00:00Z")

    [day] = analytics.period_averages(prices, timezone="UTC")

    assert day.average == Decimal("0.13")  # 0.125; banker's rounding would give 0.12


def test_the_period_summary_weighs_every_present_hour_the_same(monday):
    summary = analytics.period_summary(monday, timezone="Europe/Berlin")

    assert summary == PeriodSummary(
        first_date=dt.date(2024, 3, 4),
        last_date=dt.date(2024, 3, 4),
        average=Decimal("28.41"),
        peak_average=Decimal("0.45"),
        off_peak_average=Decimal("56.36"),
        minimum=Decimal("-500.00"),
        maximum=Decimal("120.00"),
        hours=24,
        skipped_hours=2,
    )


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (pd.Series([1.0], index=pd.DatetimeIndex(["2024-03-04T00:00"])), "tz-aware UTC"),
        (pd.Series([1.0], index=pd.date_range("2024-03-04", periods=1, tz="Europe/Berlin")), "tz-aware UTC"),
        (pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-03-04T01:00Z", "2024-03-04T00:00Z"])), "sorted"),
        (hourly([], "2024-03-04T00:00Z"), "empty"),
        (
            pd.Series([1.0, 2.0], index=pd.date_range("2024-03-04", periods=2, freq="30min", tz="UTC")),
            "hourly",
        ),
        (hourly([1.0, math.inf], "2024-03-04T00:00Z"), "finite"),
    ],
    ids=["naive", "not UTC", "unsorted", "empty", "half-hourly", "infinite"],
)
def test_series_off_the_conventions_are_refused(prices, message):
    with pytest.raises(ValueError, match=message):
        analytics.period_summary(prices, timezone="UTC")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "unknown IANA time zone"),
        ({"timezone": "UTC", "peak_hours": (20, 8)}, "start < end"),
    ],
)
def test_bad_local_time_options_are_refused(monday, options, message):
    with pytest.raises(ValueError, match=message):
        analytics.period_averages(monday, **options)


VOLATILE = [10, 12, 9, 9, NAN, 20, 25, 21]  # changes 2, -3, 0, 5, -4: mean 0, squares sum to 54


def test_volatility_is_the_sample_std_of_hourly_changes_between_present_hours():
    prices = hourly(VOLATILE, "2024-03-04T00:00Z")

    assert analytics.volatility(prices) == pytest.approx(math.sqrt(54 / 4))


def test_volatility_over_a_trailing_window_uses_only_its_hours():
    prices = hourly(VOLATILE, "2024-03-04T00:00Z")

    # last 3 hours 20, 25, 21: changes 5, -4, mean 0.5, squared deviations 20.25 + 20.25
    assert analytics.volatility(prices, window=3) == pytest.approx(math.sqrt(40.5))


def test_annualised_volatility_scales_by_the_root_of_8760_hours():
    prices = hourly(VOLATILE, "2024-03-04T00:00Z")

    assert analytics.volatility(prices, annualise=True) == pytest.approx(math.sqrt(13.5) * math.sqrt(8760))


def test_volatility_needs_two_changes():
    with pytest.raises(ValueError, match="at least two"):
        analytics.volatility(hourly([10, NAN, 12, 13], "2024-03-04T00:00Z"))


# Hourly changes -5, 3, -2, 8, 1, -1, 0, 4, -3, 2, 6, -4, 7, -6, 5, 9, -7, 10, -8, 12 (n = 20).
# Buyer losses sorted: -8 ... 9, 10, 12; seller losses sorted: -12 ... 6, 7, 8.
# k = ceil(0.95 * 20) = 19 and ceil(0.99 * 20) = 20.
RISKY = [0, -5, -2, -4, 4, 5, 4, 4, 8, 5, 7, 13, 9, 16, 10, 15, 24, 17, 27, 19, 31]


@pytest.mark.parametrize(
    ("side", "confidence", "var", "es"),
    [
        ("buyer", 0.95, "10.00", "11.00"),
        ("buyer", 0.99, "12.00", "12.00"),
        ("seller", 0.95, "7.00", "7.50"),
        ("seller", 0.99, "8.00", "8.00"),
    ],
)
def test_historical_var_and_es_are_order_statistics_of_the_losses(side, confidence, var, es):
    prices = hourly(RISKY, "2024-03-04T00:00Z")

    assert analytics.value_at_risk(prices, confidence=confidence, side=side) == Decimal(var)
    assert analytics.expected_shortfall(prices, confidence=confidence, side=side) == Decimal(es)


def test_var_over_a_horizon_uses_changes_between_present_hours_that_far_apart():
    prices = hourly([0, 10, 4, 30, NAN, 5, 1], "2024-03-04T00:00Z")  # 2-hour changes 4, 20, -25

    assert analytics.value_at_risk(prices, confidence=0.5, horizon_hours=2) == Decimal("4.00")
    assert analytics.expected_shortfall(prices, confidence=0.5, horizon_hours=2) == Decimal("12.00")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": 0}, "confidence"),
        ({"side": "trader"}, "side"),
        ({"horizon_hours": 0}, "horizon_hours"),
        ({"horizon_hours": 30}, "no 30-hour price change"),
    ],
)
def test_bad_risk_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        analytics.value_at_risk(hourly(RISKY, "2024-03-04T00:00Z"), **options)


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(-500, 4000), st.just(NAN)),
        min_size=2,
        max_size=60,
    ).filter(lambda values: any(not (math.isnan(a) or math.isnan(b)) for a, b in itertools.pairwise(values))),
    side=st.sampled_from(["buyer", "seller"]),
)
def test_es_is_never_below_var_and_var99_never_below_var95(values, side):
    prices = hourly(values, "2024-03-04T00:00Z")

    var95 = analytics.value_at_risk(prices, confidence=0.95, side=side)
    var99 = analytics.value_at_risk(prices, confidence=0.99, side=side)

    assert analytics.expected_shortfall(prices, confidence=0.95, side=side) >= var95
    assert analytics.expected_shortfall(prices, confidence=0.99, side=side) >= var99
    assert var99 >= var95


def test_renewable_surge_cuts_midday_prices_by_60_percent_down_to_the_floor():
    prices = hourly([50, 40, -10, 0, 30, -400, 20, 60], "2024-03-04T08:00Z")  # local 09-16 in Berlin

    stressed = analytics.stress(prices, "renewable_surge", timezone="Europe/Berlin")

    assert stressed.tolist() == [50, 16, -16, 0, 12, -500, 8, 60]


def test_renewable_surge_with_a_shift_pushes_positive_prices_below_zero():
    prices = hourly([50, 40, -10, 0, 30, -400, 20, 60], "2024-03-04T08:00Z")

    stressed = analytics.stress(
        prices, "renewable_surge", timezone="Europe/Berlin", drop=0.5, shift_per_mwh=20
    )

    assert stressed.tolist() == [50, 0, -35, -20, -5, -500, -10, 60]


def test_renewable_surge_follows_local_hours_on_a_dst_day():
    # 2024-03-31 in Berlin: local 10-15 are positions 9-14.
    prices = hourly([100] * 23, "2024-03-30T23:00Z")

    stressed = analytics.stress(prices, "renewable_surge", timezone="Europe/Berlin")

    assert stressed.tolist() == [100] * 9 + [40] * 6 + [100] * 8


def test_supply_shortage_lifts_every_price_and_the_evening_most():
    prices = hourly([100, -10, 50, 80, -20, 40, 30], "2024-03-04T14:00Z")  # local 15-21 in Berlin

    stressed = analytics.stress(prices, "supply_shortage", timezone="Europe/Berlin")
    capped = analytics.stress(prices, "supply_shortage", timezone="Europe/Berlin", cap_per_mwh=150)

    # x1.8, evening 17-20 x2.25; negative prices rise by 0.8 (1.25 in the evening) of their size.
    assert stressed.tolist() == pytest.approx([180, -2, 112.5, 180, 5, 90, 54])
    assert capped.tolist() == pytest.approx([150, -2, 112.5, 150, 5, 90, 54])


def test_demand_spike_amplifies_only_the_excess_over_the_median_and_keeps_gaps():
    prices = hourly([10, NAN, 30, 40, 100, 20], "2024-03-04T00:00Z")  # median 30

    assert analytics.stress(prices, "demand_spike").tolist() == pytest.approx(
        [10, NAN, 30, 50, 170, 20], nan_ok=True
    )
    assert analytics.stress(prices, "demand_spike", k=0.5).tolist() == pytest.approx(
        [10, NAN, 30, 45, 135, 20], nan_ok=True
    )


def test_a_stressed_series_keeps_the_index_of_the_input(monday):
    with_gap = monday.drop(pd.Timestamp("2024-03-04T02:00Z"))

    stressed = analytics.stress(with_gap, "supply_shortage", timezone="Europe/Berlin")

    assert stressed.index.equals(with_gap.index)


def test_an_unknown_scenario_is_refused_naming_the_known_ones(monday):
    with pytest.raises(ValueError, match="renewable_surge, supply_shortage, demand_spike"):
        analytics.stress(monday, "heatwave")


@pytest.mark.parametrize(
    ("scenario", "params"),
    [("renewable_surge", {}), ("demand_spike", {"timezone": "UTC"}), ("supply_shortage", {"factr": 2})],
    ids=["missing timezone", "unexpected timezone", "misspelt parameter"],
)
def test_scenario_parameters_are_checked(monday, scenario, params):
    with pytest.raises(TypeError):
        analytics.stress(monday, scenario, **params)


def test_stress_summary_compares_average_maximum_and_var95():
    prices = hourly([10, 20, 30, 40, 100], "2024-03-04T00:00Z")  # stressed: 10, 20, 30, 50, 170

    summary = analytics.stress_summary(prices, "demand_spike", k=1.0)

    assert summary == {
        "scenario": "demand_spike",
        "params": {"k": 1.0},
        "skipped_hours": 0,
        "average": {"baseline": Decimal("40.00"), "stressed": Decimal("56.00"), "change": Decimal("16.00")},
        "maximum": {"baseline": Decimal("100.00"), "stressed": Decimal("170.00"), "change": Decimal("70.00")},
        # changes 10, 10, 10, 60 -> 10, 10, 20, 120; k = ceil(0.95 * 4) = 4
        "var95": {"baseline": Decimal("60.00"), "stressed": Decimal("120.00"), "change": Decimal("60.00")},
    }
