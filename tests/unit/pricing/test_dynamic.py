"""The dynamic pricing rule pipeline (pricing/dynamic.py): each rule hand-computed, order, clamps, DST."""

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from pricing import dynamic
from pricing.documents import DynamicRule

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2024, 1, 15)  # winter: Berlin is UTC+1


def rules(*items: dict) -> tuple[dynamic.Rule, ...]:
    return dynamic.rules_parse(
        [
            DynamicRule(kind=i["kind"], params=MappingProxyType({k: v for k, v in i.items() if k != "kind"}))
            for i in items
        ]
    )


def flat_market(price: str, day: date = DAY) -> list[dynamic.MarketInterval]:
    start, end = dynamic.day_bounds(day, BERLIN)
    hours = int((end - start) / timedelta(hours=1))
    return [
        dynamic.MarketInterval(start + timedelta(hours=h), start + timedelta(hours=h + 1), Decimal(price))
        for h in range(hours)
    ]


def price(rule_list, *, market="100.0000", day=DAY, **kwargs) -> list[dynamic.PricedInterval]:
    return dynamic.day_price(
        rule_list, dynamic.day_intervals(day, BERLIN), zone=BERLIN, market=flat_market(market, day), **kwargs
    )


def at_local(priced, hour: int, minute: int = 0) -> dynamic.PricedInterval:
    return next(p for p in priced if dynamic.local_slot(p.start, BERLIN) == (hour, minute))


def test_market_rule_scales_the_price_per_mwh_and_adds_the_adder():
    priced = price(rules({"kind": "market", "multiplier": "1.2", "adder_per_kwh": "0.05"}), market="85.5000")

    assert {p.rate_per_kwh for p in priced} == {Decimal("0.152600")}  # 0.0855 × 1.2 + 0.05
    assert priced[0].breakdown()[0]["rule"] == "market"
    assert priced[0].breakdown()[0]["per_kwh"] == "0.152600"


def test_market_rule_defaults_to_the_bare_market_price():
    priced = price(rules({"kind": "market"}), market="-12.3400")

    assert priced[0].rate_per_kwh == Decimal("-0.012340")


def test_demand_rule_adds_the_share_of_load_above_the_threshold():
    loads = {
        "north": lambda start: (
            dynamic.Load(Decimal("85"), "forecast")
            if dynamic.local_slot(start, BERLIN) == (18, 0)
            else dynamic.Load(Decimal("60"), "forecast")
        )
    }
    demand = {
        "kind": "demand",
        "region": "north",
        "capacity_kwh": "100",
        "threshold": "0.7",
        "per_kwh_at_full": "0.10",
    }

    priced = price(rules({"kind": "market"}, demand), loads=loads)

    # (85/100 − 0.7) / (1 − 0.7) × 0.10 = 0.05
    assert at_local(priced, 18).steps[1].per_kwh == Decimal("0.050000")
    assert at_local(priced, 18).rate_per_kwh == Decimal("0.150000")
    assert at_local(priced, 3).steps[1].per_kwh == 0
    assert "forecast" in at_local(priced, 18).steps[1].note


def test_demand_rule_without_load_data_contributes_nothing_and_says_so():
    demand = {
        "kind": "demand",
        "region": "north",
        "capacity_kwh": "100",
        "threshold": "0.7",
        "per_kwh_at_full": "0.10",
    }

    priced = price(rules({"kind": "market"}, demand), loads={"north": lambda start: None})

    assert priced[0].breakdown()[1] == {
        "rule": "demand",
        "per_kwh": "0.000000",
        "note": "no load data for region north",
    }


def test_tou_rule_scales_the_running_price_inside_its_local_window_only():
    priced = price(
        rules({"kind": "market"}, {"kind": "tou", "from": "16:00", "to": "19:00", "multiplier": "1.25"})
    )

    assert at_local(priced, 16).rate_per_kwh == Decimal("0.125000")
    assert at_local(priced, 18, 30).rate_per_kwh == Decimal("0.125000")
    assert at_local(priced, 19).rate_per_kwh == Decimal("0.100000")
    assert at_local(priced, 15, 30).steps[1].note == "outside 16:00–19:00"


def test_tou_window_may_wrap_past_midnight():
    priced = price(
        rules({"kind": "market"}, {"kind": "tou", "from": "23:00", "to": "02:00", "multiplier": "0.5"})
    )

    assert at_local(priced, 0).rate_per_kwh == Decimal("0.050000")
    assert at_local(priced, 23, 30).rate_per_kwh == Decimal("0.050000")
    assert at_local(priced, 2).rate_per_kwh == Decimal("0.100000")


def test_weather_rule_charges_degrees_below_normal_by_default():
    start = dynamic.day_bounds(DAY, BERLIN)[0]
    temperatures = {start: Decimal("5"), start + timedelta(minutes=30): Decimal("20")}
    weather = {"kind": "weather", "normal_c": "15", "per_kwh_per_degree": "0.01"}

    priced = price(rules({"kind": "market"}, weather), temperatures=temperatures)

    assert priced[0].steps[1].per_kwh == Decimal("0.100000")  # 10 degrees below × 0.01
    assert priced[1].steps[1].per_kwh == 0  # above normal: no heating demand
    assert priced[2].breakdown()[1]["note"] == "no temperature data"


def test_weather_rule_can_apply_above_normal_and_uses_hourly_temperatures():
    start = dynamic.day_bounds(DAY, BERLIN)[0]
    weather = {"kind": "weather", "normal_c": "15", "per_kwh_per_degree": "0.01", "applies": "above"}

    priced = price(rules({"kind": "market"}, weather), temperatures={start: Decimal("20.5")})

    assert priced[0].steps[1].per_kwh == Decimal("0.055000")
    assert priced[1].steps[1].per_kwh == Decimal("0.055000")  # the half-hour takes its hour's reading


def test_rules_apply_in_order():
    tou = {"kind": "tou", "from": "00:00", "to": "23:59", "multiplier": "2"}
    adder = {"kind": "market", "adder_per_kwh": "0.01"}

    market_first = price(rules(adder, tou))[0]
    tou_first = price(rules(tou, adder))[0]

    assert market_first.rate_per_kwh == Decimal("0.220000")  # (0.1 + 0.01) × 2
    assert tou_first.rate_per_kwh == Decimal("0.110000")  # 0 × 2, then + 0.11


def test_floor_lifts_a_negative_market_price_and_shows_the_adjustment():
    priced = price(rules({"kind": "market"}, {"kind": "floor", "per_kwh": "0"}), market="-50.0000")

    assert priced[0].rate_per_kwh == 0
    assert priced[0].breakdown() == [
        {"rule": "market", "per_kwh": "-0.050000", "note": "-50.0000 /MWh × 1 + 0"},
        {"rule": "floor", "per_kwh": "0.050000", "note": "raised to floor 0"},
    ]


def test_cap_clamps_a_price_spike_and_leaves_negative_prices_alone():
    cap_and_floor = rules(
        {"kind": "market"}, {"kind": "cap", "per_kwh": "0.1"}, {"kind": "floor", "per_kwh": "-0.02"}
    )

    spike = price(cap_and_floor, market="300.0000")[0]
    negative = price(cap_and_floor, market="-10.0000")[0]
    very_negative = price(cap_and_floor, market="-500.0000")[0]

    assert spike.rate_per_kwh == Decimal("0.100000")
    assert spike.steps[1].per_kwh == Decimal("-0.200000")
    assert negative.rate_per_kwh == Decimal("-0.010000")
    assert very_negative.rate_per_kwh == Decimal("-0.020000")


def test_breakdown_sums_to_the_rate():
    rule_list = rules(
        {"kind": "market", "multiplier": "1.1", "adder_per_kwh": "0.0333"},
        {"kind": "tou", "from": "07:00", "to": "09:00", "multiplier": "1.333333"},
        {"kind": "weather", "normal_c": "18", "per_kwh_per_degree": "0.003"},
        {"kind": "cap", "per_kwh": "0.2"},
    )
    start = dynamic.day_bounds(DAY, BERLIN)[0]
    temperatures = {start + timedelta(hours=h): Decimal("-3.7") for h in range(24)}

    for p in price(rule_list, market="123.4567", temperatures=temperatures):
        assert sum(Decimal(step["per_kwh"]) for step in p.breakdown()) == p.rate_per_kwh


def test_rates_are_quantized_half_up_to_six_places():
    assert price(rules({"kind": "market"}), market="0.0005")[0].rate_per_kwh == Decimal("0.000001")
    assert price(rules({"kind": "market"}), market="-0.0005")[0].rate_per_kwh == Decimal("-0.000001")
    assert price(rules({"kind": "market"}), market="0.0004")[0].breakdown()[0]["per_kwh"] == "0.000000"


@pytest.mark.parametrize(("day", "count"), [(date(2024, 3, 31), 46), (date(2024, 10, 27), 50), (DAY, 48)])
def test_local_day_has_46_48_or_50_half_hours(day, count):
    priced = price(rules({"kind": "market"}), day=day)

    assert len(priced) == count
    assert priced[0].start == datetime.combine(day, datetime.min.time(), tzinfo=BERLIN).astimezone(UTC)
    assert all(a.end == b.start for a, b in itertools.pairwise(priced))


def test_tou_follows_local_time_across_the_spring_dst_change():
    priced = price(
        rules({"kind": "market"}, {"kind": "tou", "from": "03:00", "to": "04:00", "multiplier": "2"}),
        day=date(2024, 3, 31),
    )

    doubled = [p.start for p in priced if p.rate_per_kwh == Decimal("0.200000")]
    assert doubled == [datetime(2024, 3, 31, 1, 0, tzinfo=UTC), datetime(2024, 3, 31, 1, 30, tzinfo=UTC)]


def test_missing_market_interval_is_named():
    intervals = dynamic.day_intervals(DAY, BERLIN)

    with pytest.raises(dynamic.MissingMarketPrice) as raised:
        dynamic.day_price(rules({"kind": "market"}), intervals, zone=BERLIN, market=flat_market("1")[:5])

    assert raised.value.start == intervals[10][0]
    assert "2024-01-15T04:00:00Z" in str(raised.value)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "surge"}, "document.energy.rules[1].kind"),
        ({"kind": "market", "mulitplier": "2"}, "document.energy.rules[1].mulitplier"),
        ({"kind": "market", "multiplier": 2}, "document.energy.rules[1].multiplier"),
        ({"kind": "market", "adder_per_kwh": "1e3"}, "document.energy.rules[1].adder_per_kwh"),
        (
            {
                "kind": "demand",
                "region": "n",
                "capacity_kwh": "0",
                "threshold": "0.7",
                "per_kwh_at_full": "1",
            },
            "document.energy.rules[1].capacity_kwh",
        ),
        (
            {"kind": "demand", "region": "n", "capacity_kwh": "10", "threshold": "1", "per_kwh_at_full": "1"},
            "document.energy.rules[1].threshold",
        ),
        (
            {"kind": "demand", "capacity_kwh": "10", "threshold": "0.5", "per_kwh_at_full": "1"},
            "document.energy.rules[1].region",
        ),
        ({"kind": "tou", "from": "16:00", "to": "25:00", "multiplier": "1"}, "document.energy.rules[1].to"),
        ({"kind": "tou", "from": "16:00", "to": "16:00", "multiplier": "1"}, "document.energy.rules[1].to"),
        (
            {"kind": "weather", "normal_c": "15", "per_kwh_per_degree": "0.01", "applies": "sideways"},
            "document.energy.rules[1].applies",
        ),
        ({"kind": "cap"}, "document.energy.rules[1].per_kwh"),
        ({"kind": "floor", "per_kwh": "0.0000001"}, "document.energy.rules[1].per_kwh"),
    ],
)
def test_bad_rules_are_refused_naming_the_parameter(rule, field):
    with pytest.raises(dynamic.InvalidRule) as raised:
        rules({"kind": "market"}, rule)

    assert raised.value.field == field


def test_a_floor_above_a_cap_is_refused():
    parsed = rules({"kind": "market"}, {"kind": "cap", "per_kwh": "0.1"}, {"kind": "floor", "per_kwh": "0.2"})

    with pytest.raises(dynamic.InvalidRule) as raised:
        dynamic.rules_check_order(parsed)

    assert raised.value.field == "document.energy.rules[2].per_kwh"


def test_no_rules_are_refused():
    with pytest.raises(dynamic.InvalidRule) as raised:
        dynamic.rules_parse([])

    assert raised.value.field == "document.energy.rules"
