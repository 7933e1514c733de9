"""The bill arithmetic of TARIFFS.md, with hand-computed lines and totals."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import engine
from pricing.documents import parse_tariff_document
from pricing.engine import Event, PriceSeries

D = Decimal
LONDON_OCT_FROM = datetime(2024, 9, 30, 23, 0, tzinfo=UTC)  # 2024-10-01 00:00 BST
LONDON_NOV_FROM = datetime(2024, 11, 1, 0, 0, tzinfo=UTC)  # 2024-11-01 00:00 GMT
FAR_PAST = datetime(2020, 1, 1, tzinfo=UTC)


def document(energy, **extra):
    return parse_tariff_document(
        {"format": "tariff/v1", "currency": "GBP", "timezone": "Europe/London", "energy": energy, **extra}
    )


def flat(rate, **extra):
    return document({"kind": "flat", "rate_per_kwh": rate}, **extra)


def version(doc, *, pk=1, valid_from=FAR_PAST, valid_to=None, **kwargs):
    return engine.PricedVersion(
        version_id=pk, valid_from=valid_from, valid_to=valid_to, document=doc, **kwargs
    )


def half_hours(start: datetime, count: int) -> np.ndarray:
    first = np.datetime64(int(start.timestamp()), "s")
    return first + np.arange(count, dtype=np.int64) * np.timedelta64(1800, "s")


def meter(start, kwh_e4, *, direction="IMPORT", estimated=None, serial="M1", seconds=1800):
    kwh_e4 = np.asarray(kwh_e4, dtype=np.int64)
    starts = np.datetime64(int(start.timestamp()), "s") + np.arange(
        len(kwh_e4), dtype=np.int64
    ) * np.timedelta64(seconds, "s")
    return engine.MeterSeries(
        serial=serial,
        direction=direction,
        interval_seconds=seconds,
        installed_at=FAR_PAST,
        removed_at=None,
        starts=starts,
        kwh_e4=kwh_e4,
        estimated=np.zeros(len(kwh_e4), bool) if estimated is None else np.asarray(estimated, bool),
    )


def bill(
    versions,
    meters,
    period_start,
    period_end,
    *,
    export_versions=(),
    agreement_from=FAR_PAST,
    agreement_to=None,
):
    return engine.bill_compute(
        agreements=[
            engine.AgreementInput(
                valid_from=agreement_from,
                valid_to=agreement_to,
                import_versions=versions,
                export_versions=export_versions,
                meters=meters,
            )
        ],
        period_start=period_start,
        period_end=period_end,
    )


def summary(result):
    return [(line.kind, line.band, line.quantity, line.amount) for line in result.lines]


JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)  # GMT: local = UTC


def test_flat_tariff_with_standing_charge_and_vat():
    doc = flat("0.2450", standing_charge_per_day="0.4500", tax={"name": "VAT", "rate": "0.05"})
    result = bill([version(doc)], [meter(JAN_1, [5000] * 48)], date(2024, 1, 1), date(2024, 1, 2))
    assert summary(result) == [
        ("ENERGY", "flat", D("24.0000"), D("5.88")),
        ("STANDING_CHARGE", "", D("1.0000"), D("0.45")),
    ]
    assert result.lines[0].unit_price == D("0.245000")
    assert [(t.name, t.rate, t.base, t.amount) for t in result.taxes] == [
        ("VAT", D("0.05"), D("6.33"), D("0.32"))
    ]
    assert (result.net, result.tax, result.total) == (D("6.33"), D("0.32"), D("6.65"))


def test_amounts_round_half_up_not_to_even():
    kwh = [0] * 48
    kwh[10] = 2000  # 0.2 kWh × 0.025 = 0.005 → 0.01 (banker's rounding would give 0.00)
    result = bill([version(flat("0.025"))], [meter(JAN_1, kwh)], date(2024, 1, 1), date(2024, 1, 2))
    assert result.lines[0].amount == D("0.01")


def test_tiered_tariff_splits_the_interval_that_crosses_the_boundary():
    doc = document(
        {
            "kind": "tiered",
            "tiers": [
                {"up_to_kwh": "10", "rate_per_kwh": "0.20"},
                {"up_to_kwh": None, "rate_per_kwh": "0.25"},
            ],
        }
    )
    # 48 × 0.3 kWh = 14.4 kWh; the 34th interval crosses 10 kWh (0.1 below, 0.2 above).
    result = bill([version(doc)], [meter(JAN_1, [3000] * 48)], date(2024, 1, 1), date(2024, 1, 2))
    assert summary(result) == [
        ("ENERGY", "tier_1", D("10.0000"), D("2.00")),
        ("ENERGY", "tier_2", D("4.4000"), D("1.10")),
    ]
    assert result.net == D("3.10")


def test_tiers_are_cumulative_across_a_version_change():
    tiers = {
        "kind": "tiered",
        "tiers": [{"up_to_kwh": "10", "rate_per_kwh": "0.20"}, {"up_to_kwh": None, "rate_per_kwh": "0.25"}],
    }
    change = JAN_1 + timedelta(hours=12)
    versions = [
        version(document(tiers), pk=1, valid_to=change),
        version(document(tiers), pk=2, valid_from=change),
    ]
    result = bill(versions, [meter(JAN_1, [3000] * 48)], date(2024, 1, 1), date(2024, 1, 2))
    # Version 1: 24 × 0.3 = 7.2 kWh in tier 1; version 2: 2.8 kWh more in tier 1, then 4.4 in tier 2.
    assert summary(result) == [
        ("ENERGY", "tier_1", D("7.2000"), D("1.44")),
        ("ENERGY", "tier_1", D("2.8000"), D("0.56")),
        ("ENERGY", "tier_2", D("4.4000"), D("1.10")),
    ]
    assert [line.version_id for line in result.lines] == [1, 2, 2]


def test_tou_tariff_uses_the_weekend_schedule_on_saturday():
    weekday = ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5
    doc = document(
        {
            "kind": "tou",
            "rates_per_kwh": {"off_peak": "0.08", "peak": "0.20"},
            "weekday": weekday,
            "weekend": ["off_peak"] * 24,
        }
    )
    friday = datetime(2024, 1, 5, tzinfo=UTC)
    result = bill([version(doc)], [meter(friday, [10000] * 96)], date(2024, 1, 5), date(2024, 1, 7))
    # Friday 16:00-19:00 = 6 half-hours peak; the other 42 + Saturday's 48 are off-peak.
    assert summary(result) == [
        ("ENERGY", "off_peak", D("90.0000"), D("7.20")),
        ("ENERGY", "peak", D("6.0000"), D("1.20")),
    ]
    assert result.net == D("8.40")


def test_indexed_tariff_follows_market_prices_including_negative_ones():
    doc = document(
        {
            "kind": "indexed",
            "market": "GB",
            "multiplier": "1.20",
            "adder_per_kwh": "0.05",
            "peak_adder": {"from": "16:00", "to": "19:00", "per_kwh": "0.12"},
            "cap_per_kwh": "1.00",
            "floor_per_kwh": None,
        }
    )
    hours = np.datetime64(int(JAN_1.timestamp()), "s") + np.arange(24) * np.timedelta64(3600, "s")
    prices = np.full(24, 100_000_000, dtype=np.int64)  # 100.00 per MWh
    prices[3] = -200_000_000  # 03:00-04:00: -0.24 + 0.05 = -0.19 per kWh
    market = PriceSeries(starts=hours, ends=hours + np.timedelta64(3600, "s"), values_micros=prices)
    result = bill(
        [version(doc, market=market)], [meter(JAN_1, [10000] * 48)], date(2024, 1, 1), date(2024, 1, 2)
    )
    # 0.12 + 0.05 = 0.17 off-peak; +0.12 in 16:00-19:00 = 0.29.
    assert summary(result) == [
        ("ENERGY", "indexed", D("42.0000"), D("6.42")),  # 40 × 0.17 + 2 × (-0.19)
        ("ENERGY", "indexed_peak", D("6.0000"), D("1.74")),
    ]
    assert result.lines[0].unit_price is None  # the rate varies within the line
    assert result.lines[1].unit_price == D("0.290000")


def test_dynamic_tariff_uses_the_published_rates():
    doc = document({"kind": "dynamic", "market": "GB"})
    starts = half_hours(JAN_1, 48)
    published = PriceSeries(
        starts=starts,
        ends=starts + np.timedelta64(1800, "s"),
        values_micros=100_000 + 1_000 * np.arange(48, dtype=np.int64),  # 0.100 + 0.001 i
    )
    result = bill(
        [version(doc, published=published)], [meter(JAN_1, [5000] * 48)], date(2024, 1, 1), date(2024, 1, 2)
    )
    # Σ 0.5 × (0.100 + 0.001 i) = 0.5 × (4.8 + 1.128) = 2.964
    assert summary(result) == [("ENERGY", "dynamic", D("24.0000"), D("2.96"))]


def test_events_replace_the_energy_rate_on_their_own_line():
    doc = flat("0.20", events={"critical_peak": {"rate_per_kwh": "0.40"}})
    event = Event(kind="critical_peak", start=JAN_1 + timedelta(hours=17), end=JAN_1 + timedelta(hours=18))
    result = bill(
        [version(doc, events=(event,))], [meter(JAN_1, [10000] * 48)], date(2024, 1, 1), date(2024, 1, 2)
    )
    assert summary(result) == [
        ("ENERGY", "flat", D("46.0000"), D("9.20")),
        ("EVENT", "critical_peak", D("2.0000"), D("0.80")),
    ]


def test_demand_is_the_highest_average_kw_times_the_rate():
    kwh = [5000] * 48
    kwh[20] = 12345  # 1.2345 kWh in half an hour = 2.4690 kW
    doc = flat("0.20", demand={"rate_per_kw": "8.50"})
    result = bill([version(doc)], [meter(JAN_1, kwh)], date(2024, 1, 1), date(2024, 1, 2))
    demand = result.lines[-1]
    assert (demand.kind, demand.quantity, demand.unit, demand.amount) == (
        "DEMAND",
        D("2.4690"),
        "kW",
        D("20.99"),
    )


def test_export_tariff_gives_credit_lines_and_tax_only_where_versions_carry_it():
    import_doc = flat("0.25", tax={"name": "VAT", "rate": "0.05"})
    export_doc = flat("0.15")
    result = bill(
        [version(import_doc, pk=1)],
        [meter(JAN_1, [5000] * 48), meter(JAN_1, [5000] * 48, direction="EXPORT", serial="X1")],
        date(2024, 1, 1),
        date(2024, 1, 2),
        export_versions=[version(export_doc, pk=2)],
    )
    assert summary(result) == [
        ("ENERGY", "flat", D("24.0000"), D("6.00")),
        ("EXPORT_CREDIT", "flat", D("24.0000"), D("-3.60")),
    ]
    assert (result.net, result.tax, result.total) == (D("2.40"), D("0.30"), D("2.70"))


def test_a_dst_month_has_31_standing_days_and_1490_half_hours():
    doc = flat("0.25", standing_charge_per_day="0.45", tax={"name": "VAT", "rate": "0.05"})
    readings = meter(LONDON_OCT_FROM, [1000] * 1490)
    assert readings.starts[-1] + np.timedelta64(1800, "s") == np.datetime64(
        int(LONDON_NOV_FROM.timestamp()), "s"
    )
    result = bill([version(doc)], [readings], date(2024, 10, 1), date(2024, 11, 1))
    assert summary(result) == [
        ("ENERGY", "flat", D("149.0000"), D("37.25")),
        ("STANDING_CHARGE", "", D("31.0000"), D("13.95")),
    ]
    assert (result.net, result.tax, result.total) == (D("51.20"), D("2.56"), D("53.76"))


def test_an_agreement_starting_mid_period_bills_only_its_part():
    doc = flat("0.25", standing_charge_per_day="0.45")
    start = datetime(2024, 10, 14, 23, 0, tzinfo=UTC)  # 2024-10-15 00:00 BST
    result = bill(
        [version(doc)],
        [meter(LONDON_OCT_FROM, [1000] * 1490)],
        date(2024, 10, 1),
        date(2024, 11, 1),
        agreement_from=start,
    )
    # 15-31 October: 17 days; 16 × 48 + 50 (the 27th) = 818 half-hours.
    assert summary(result) == [
        ("ENERGY", "flat", D("81.8000"), D("20.45")),
        ("STANDING_CHARGE", "", D("17.0000"), D("7.65")),
    ]


def test_a_version_change_mid_period_gives_separate_lines():
    change = datetime(2024, 10, 9, 23, 0, tzinfo=UTC)  # 2024-10-10 00:00 BST
    versions = [
        version(flat("0.25", standing_charge_per_day="0.45"), pk=1, valid_to=change),
        version(flat("0.30", standing_charge_per_day="0.50"), pk=2, valid_from=change),
    ]
    result = bill(versions, [meter(LONDON_OCT_FROM, [1000] * 1490)], date(2024, 10, 1), date(2024, 11, 1))
    assert [(line.version_id, *row) for line, row in zip(result.lines, summary(result), strict=True)] == [
        (1, "ENERGY", "flat", D("43.2000"), D("10.80")),  # 9 days × 48
        (2, "ENERGY", "flat", D("105.8000"), D("31.74")),  # 1490 - 432
        (1, "STANDING_CHARGE", "", D("9.0000"), D("4.05")),
        (2, "STANDING_CHARGE", "", D("22.0000"), D("11.00")),
    ]
    assert result.net == D("57.59")


def test_missing_intervals_hold_the_bill_with_a_reason_naming_the_gap():
    readings = meter(JAN_1, [1000] * 48)
    keep = np.ones(48, bool)
    keep[[20, 21]] = False
    gappy = engine.MeterSeries(
        **{
            **readings.__dict__,
            "starts": readings.starts[keep],
            "kwh_e4": readings.kwh_e4[keep],
            "estimated": readings.estimated[keep],
        }
    )
    with pytest.raises(engine.BillHeld) as held:
        bill([version(flat("0.25"))], [gappy], date(2024, 1, 1), date(2024, 1, 2))
    assert "meter M1" in held.value.reason
    assert "2 intervals" in held.value.reason
    assert "2024-01-01T10:00Z" in held.value.reason


def test_estimated_readings_are_billed_and_the_line_says_so():
    estimated = np.zeros(48, bool)
    estimated[5] = True
    result = bill(
        [version(flat("0.25"))],
        [meter(JAN_1, [1000] * 48, estimated=estimated)],
        date(2024, 1, 1),
        date(2024, 1, 2),
    )
    assert result.lines[0].estimated is True
    assert result.lines[0].amount == D("1.20")


def test_no_version_at_an_interval_holds_the_bill():
    versions = [version(flat("0.25"), valid_from=JAN_1 + timedelta(hours=1))]
    with pytest.raises(engine.BillHeld, match="no import tariff version is valid at 2024-01-01T00:00Z"):
        bill(versions, [meter(JAN_1, [1000] * 48)], date(2024, 1, 1), date(2024, 1, 2))


def _assert_cents(value: Decimal) -> None:
    assert isinstance(value, Decimal)
    assert value.as_tuple().exponent == -2


@settings(max_examples=60, deadline=None)
@given(
    kwh=st.lists(st.integers(min_value=0, max_value=50_000), min_size=48, max_size=48),
    rate=st.integers(min_value=0, max_value=999_999),
    standing=st.integers(min_value=0, max_value=99_999),
    export_rate=st.integers(min_value=0, max_value=999_999),
    tax_rate=st.sampled_from(["0.05", "0.20", "0.125"]),
    change_hour=st.integers(min_value=1, max_value=23),
)
def test_total_is_the_sum_of_rounded_lines_plus_tax_and_never_a_float(
    kwh, rate, standing, export_rate, tax_rate, change_hour
):
    tax = {"name": "VAT", "rate": tax_rate}
    change = JAN_1 + timedelta(hours=change_hour)
    versions = [
        version(
            flat(str(D(rate).scaleb(-6)), standing_charge_per_day=str(D(standing).scaleb(-4)), tax=tax),
            pk=1,
            valid_to=change,
        ),
        version(flat(str(D(rate + 1).scaleb(-6))), pk=2, valid_from=change),
    ]
    result = bill(
        versions,
        [meter(JAN_1, kwh), meter(JAN_1, kwh[::-1], direction="EXPORT", serial="X")],
        date(2024, 1, 1),
        date(2024, 1, 2),
        export_versions=[version(flat(str(D(export_rate).scaleb(-6)), tax=tax), pk=3)],
    )
    for value in [result.net, result.tax, result.total, *(line.amount for line in result.lines)]:
        _assert_cents(value)
    assert result.net == sum(line.amount for line in result.lines)
    assert result.total == result.net + result.tax
    taxed = sum(line.amount for line in result.lines if line.version_id in (1, 3))
    assert result.tax == (taxed * D(tax_rate)).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    # Each energy line is the exactly rounded sum of kWh × rate over its intervals.
    v1 = [
        k
        for k, s in zip(kwh, half_hours(JAN_1, 48), strict=True)
        if s < np.datetime64(int(change.timestamp()), "s")
    ]
    expected = (D(sum(v1)) * D(rate)).scaleb(-10).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert (
        next(line.amount for line in result.lines if line.version_id == 1 and line.kind == "ENERGY")
        == expected
    )
