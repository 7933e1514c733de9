"""Commercial and industrial charges (docs/commercial-tariffs.md), with hand-computed lines and totals,
DST months included."""

from datetime import UTC, date, datetime

import numpy as np
import pytest

from billing import commercial, engine
from billing.bill_data import LoadSeries
from tests.unit.billing.test_engine import FAR_PAST, D, document, meter, summary, version

OCT_FROM = datetime(2024, 9, 30, 23, 0, tzinfo=UTC)  # 2024-10-01 00:00 BST; October 2024 has 1490 half-hours
HOURS_16_19 = ["off"] * 16 + ["peak"] * 3 + ["off"] * 5


def _index(start: datetime, moment: datetime) -> int:
    return int((moment - start).total_seconds()) // 1800


def october_readings() -> list[int]:
    kwh = [5000] * 1490  # 0.5 kWh a half-hour: 1 kW
    spikes = {
        datetime(2024, 10, 15, 16, 0, tzinfo=UTC): (30000, 10000),  # Tue 17:00 BST, peak: 4.0 kW hourly
        datetime(2024, 10, 25, 15, 0, tzinfo=UTC): (22500, 22500),  # Fri 16:00 BST, peak: 4.5 kW
        datetime(2024, 10, 28, 15, 0, tzinfo=UTC): (25000, 25000),  # Mon 15:00 GMT, off: 5.0 kW
        datetime(2024, 10, 27, 1, 0, tzinfo=UTC): (16000, 15000),  # Sun, the second 01:00 (GMT): 3.1 kW
    }
    for moment, (first, second) in spikes.items():
        i = _index(OCT_FROM, moment)
        kwh[i], kwh[i + 1] = first, second
    return kwh


def commercial_document(**extra):
    return document(
        {"kind": "flat", "rate_per_kwh": "0.10"},
        standing_charge_per_day="0.50",
        demand={
            "rate_per_kw": "10.00",
            "averaging_minutes": 60,
            "tou": {
                "rates_per_kw": {"peak": "5.00", "off": "1.00"},
                "weekday": HOURS_16_19,
                "weekend": ["off"] * 24,
            },
        },
        tax={"name": "VAT", "rate": "0.20"},
        **extra,
    )


def run(doc, meters, period_start, period_end, **agreement):
    return engine.bill_compute(
        agreements=[
            engine.AgreementInput(
                valid_from=FAR_PAST, valid_to=None, import_versions=[version(doc)], meters=meters, **agreement
            )
        ],
        period_start=period_start,
        period_end=period_end,
    )


def test_tou_demand_minimum_and_riders_in_the_october_dst_month():
    doc = commercial_document(
        minimum_charge_per_month="200.00",
        riders=[
            {"name": "Network levy", "kind": "fixed", "amount_per_month": "12.00"},
            {"name": "Green credit", "kind": "percentage", "rate": "-0.02", "tax": "exempt"},
            {
                "name": "Climate levy",
                "kind": "fixed",
                "amount_per_month": "3.10",
                "tax": {"name": "CCL", "rate": "0.10"},
            },
        ],
    )
    result = run(doc, [meter(OCT_FROM, october_readings())], date(2024, 10, 1), date(2024, 11, 1))
    # 1490 × 0.5 kWh + 12.6 kWh of spikes = 757.6 kWh × 0.10; 31 days × 0.50; hourly demand: facility
    # 5.0 kW (Mon 28th 15:00 GMT, off-peak: after the clocks went back), peak 4.5 kW (Fri 25th 16:00 BST),
    # off 5.0 kW; the half-hour spike of 6 kW on the 15th averages to 4 kW over its hour.
    assert summary(result) == [
        ("ENERGY", "flat", D("757.6000"), D("75.76")),
        ("STANDING_CHARGE", "", D("31.0000"), D("15.50")),
        ("DEMAND", "", D("5.0000"), D("50.00")),
        ("DEMAND", "peak", D("4.5000"), D("22.50")),
        ("DEMAND", "off", D("5.0000"), D("5.00")),
        # the lines so far sum to 168.76, below the minimum of 200.00 for a whole month
        ("MINIMUM_CHARGE", "", D("31.0000"), D("31.24")),
        ("RIDER", "Network levy", D("1.0000"), D("12.00")),
        ("RIDER", "Green credit", D("200.0000"), D("-4.00")),
        ("RIDER", "Climate levy", D("1.0000"), D("3.10")),
    ]
    # VAT on every line but the exempt credit and the levy taxed on its own
    assert [(t.name, t.base, t.amount) for t in result.taxes] == [
        ("CCL", D("3.10"), D("0.31")),
        ("VAT", D("212.00"), D("42.40")),
    ]
    assert (result.net, result.tax, result.total) == (D("211.10"), D("42.71"), D("253.81"))


def test_without_an_averaging_window_demand_is_per_reading_interval():
    doc = document(
        {"kind": "flat", "rate_per_kwh": "0.10"},
        demand={
            "rate_per_kw": "10.00",
            "tou": {
                "rates_per_kw": {"peak": "5.00", "off": "1.00"},
                "weekday": HOURS_16_19,
                "weekend": ["off"] * 24,
            },
        },
    )
    result = run(doc, [meter(OCT_FROM, october_readings())], date(2024, 10, 1), date(2024, 11, 1))
    demand = [(line.band, line.quantity, line.amount) for line in result.lines if line.kind == "DEMAND"]
    assert demand == [
        ("", D("6.0000"), D("60.00")),
        ("peak", D("6.0000"), D("30.00")),
        ("off", D("5.0000"), D("5.00")),
    ]


NOV_FROM = datetime(2024, 11, 1, tzinfo=UTC)  # GMT


def november_with_history(history_peak_e4: int, november_peak_e4: int):
    """September and October at 1 kW with one peak half-hour on 10 October; November with its own peak."""
    sep_from = datetime(2024, 8, 31, 23, 0, tzinfo=UTC)
    count = _index(sep_from, datetime(2024, 12, 1, tzinfo=UTC))
    kwh = [5000] * count
    kwh[_index(sep_from, datetime(2024, 10, 10, 12, 0, tzinfo=UTC))] = history_peak_e4 // 2
    kwh[_index(sep_from, datetime(2024, 11, 20, 12, 0, tzinfo=UTC))] = november_peak_e4 // 2
    return [meter(sep_from, kwh)]


def ratchet_document(percent: str, months: int = 11):
    return document(
        {"kind": "flat", "rate_per_kwh": "0.10"},
        demand={"rate_per_kw": "10.00", "ratchet": {"percent": percent, "months": months}},
    )


def test_a_ratchet_bills_its_share_of_the_highest_demand_of_the_previous_months():
    result = run(
        ratchet_document("80"), november_with_history(100_000, 40_000), date(2024, 11, 1), date(2024, 12, 1)
    )
    demand = result.lines[-1]
    # 80 % of 10 kW (10 October) = 8 kW > November's 4 kW
    assert (demand.band, demand.quantity, demand.amount) == ("ratchet", D("8.0000"), D("80.00"))
    assert "80 % of 10.0000 kW" in demand.description


def test_a_ratchet_rounds_the_billed_kw_half_up_to_four_places():
    # 75.5 % of 9.8766 kW = 7.456833 → 7.4568 kW × 10.00 = 74.568 → 74.57
    result = run(
        ratchet_document("75.5"), november_with_history(98_766, 40_000), date(2024, 11, 1), date(2024, 12, 1)
    )
    assert (result.lines[-1].quantity, result.lines[-1].amount) == (D("7.4568"), D("74.57"))


def test_a_ratchet_below_the_measured_demand_changes_nothing():
    result = run(
        ratchet_document("50"), november_with_history(100_000, 60_000), date(2024, 11, 1), date(2024, 12, 1)
    )
    assert (result.lines[-1].band, result.lines[-1].quantity, result.lines[-1].amount) == (
        "",
        D("6.0000"),
        D("60.00"),
    )


def test_a_ratchet_looks_back_only_its_months():
    # one month back from November: October 1st onwards still holds the 10 October peak; with
    # September only (a peak on 10 September) a one-month ratchet sees nothing of it
    sep_from = datetime(2024, 8, 31, 23, 0, tzinfo=UTC)
    kwh = [5000] * _index(sep_from, datetime(2024, 12, 1, tzinfo=UTC))
    kwh[_index(sep_from, datetime(2024, 9, 10, 12, 0, tzinfo=UTC))] = 50_000
    result = run(
        ratchet_document("80", months=1), [meter(sep_from, kwh)], date(2024, 11, 1), date(2024, 12, 1)
    )
    assert (result.lines[-1].band, result.lines[-1].quantity) == ("", D("1.0000"))


MAR_31_FROM = datetime(2024, 3, 31, 0, 0, tzinfo=UTC)  # 2024-03-31 00:00 GMT; the day has 46 half-hours


def coincident(intervals: int, basis: str = "feeder"):
    return document(
        {"kind": "flat", "rate_per_kwh": "0.10"},
        demand={"coincident_peak": {"rate_per_kw": "7.00", "basis": basis, "intervals": intervals}},
    )


def march_31():
    load = np.full(46, 1_000_000, dtype=np.int64)
    customer = [5000] * 46
    evening, morning = (
        _index(MAR_31_FROM, datetime(2024, 3, 31, 17, tzinfo=UTC)),
        _index(MAR_31_FROM, datetime(2024, 3, 31, 7, tzinfo=UTC)),
    )
    load[evening], load[morning] = 3_000_000, 2_500_000
    customer[evening], customer[morning] = 12_000, 9_000
    starts = meter(MAR_31_FROM, load).starts
    return LoadSeries(starts=starts, kwh_e4=load), [meter(MAR_31_FROM, customer)]


@pytest.mark.parametrize(("intervals", "kw", "amount"), [(1, "2.4000", "16.80"), (2, "2.1000", "14.70")])
def test_coincident_peak_takes_the_customers_load_at_the_feeders_peaks(intervals, kw, amount):
    load, meters = march_31()
    result = run(coincident(intervals), meters, date(2024, 3, 31), date(2024, 4, 1), feeder_load=load)
    line = result.lines[-1]
    assert (line.kind, line.band, line.quantity, line.amount) == (
        "DEMAND",
        "coincident_peak",
        D(kw),
        D(amount),
    )
    assert result.lines[0].quantity == D("24.1000")  # 46 half-hours: 44 × 0.5 + 1.2 + 0.9


def test_coincident_peak_without_the_load_holds_the_bill():
    _, meters = march_31()
    with pytest.raises(engine.BillHeld, match="needs the system load"):
        run(coincident(1, "system"), meters, date(2024, 3, 31), date(2024, 4, 1))


def test_minimum_and_fixed_riders_are_prorated_by_the_days_of_each_month():
    doc = document(
        {"kind": "flat", "rate_per_kwh": "0.10"},
        minimum_charge_per_month="100.00",
        riders=[{"name": "Levy", "kind": "fixed", "amount_per_month": "12.00"}],
    )
    start = datetime(2024, 2, 10, tzinfo=UTC)
    count = _index(start, datetime(2024, 3, 10, tzinfo=UTC))
    result = run(doc, [meter(start, [1000] * count)], date(2024, 2, 10), date(2024, 3, 10))
    # 20/29 of February + 9/31 of March = 881/899 of a month: 97.997… → 98.00 minimum;
    # energy 139.2 kWh = 13.92
    assert summary(result) == [
        ("ENERGY", "flat", D("139.2000"), D("13.92")),
        ("MINIMUM_CHARGE", "", D("29.0000"), D("84.08")),
        ("RIDER", "Levy", D("0.9800"), D("11.76")),
    ]


def test_an_averaging_window_shorter_than_the_readings_holds_the_bill():
    doc = document(
        {"kind": "flat", "rate_per_kwh": "0.10"}, demand={"rate_per_kw": "1.00", "averaging_minutes": 15}
    )
    with pytest.raises(engine.BillHeld, match="averaging_minutes is 15"):
        run(doc, [meter(NOV_FROM, [5000] * 48)], date(2024, 11, 1), date(2024, 11, 2))


def test_a_15_minute_window_averages_quarter_hour_readings_in_pairs():
    doc = document(
        {"kind": "flat", "rate_per_kwh": "0.10"}, demand={"rate_per_kw": "1.00", "averaging_minutes": 30}
    )
    kwh = [2500] * 96
    kwh[41] = 10000  # a 4 kW quarter-hour at 10:15 averages with 1 kW at 10:00 to 2.5 kW over the half-hour
    result = run(doc, [meter(NOV_FROM, kwh, seconds=900)], date(2024, 11, 1), date(2024, 11, 2))
    assert (result.lines[-1].quantity, result.lines[-1].amount) == (D("2.5000"), D("2.50"))


def test_months_before_clamps_to_the_end_of_the_month():
    assert commercial.months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert commercial.months_before(date(2024, 1, 15), 13) == date(2022, 12, 15)
