import copy
from datetime import time
from decimal import Decimal

import pytest

from pricing.documents import (
    DynamicEnergy,
    FlatEnergy,
    IndexedEnergy,
    InvalidTariffDocument,
    PeakAdder,
    Tax,
    Tier,
    TieredEnergy,
    TouEnergy,
    parse_tariff_document,
    to_micros,
)

FULL = {
    "format": "tariff/v1",
    "currency": "GBP",
    "timezone": "Europe/London",
    "standing_charge_per_day": "0.4500",
    "energy": {"kind": "flat", "rate_per_kwh": "0.2450"},
    "demand": {"rate_per_kw": "8.50"},
    "events": {"critical_peak": {"rate_per_kwh": "0.4000"}, "emergency": {"rate_per_kwh": "0.8000"}},
    "tax": {"name": "VAT", "rate": "0.05"},
}
TIERED = {
    "kind": "tiered",
    "tiers": [{"up_to_kwh": "300", "rate_per_kwh": "0.20"}, {"up_to_kwh": None, "rate_per_kwh": "0.25"}],
}
DAY = ["off_peak"] * 14 + ["day"] * 18 + ["peak"] * 6 + ["day"] * 10
TOU = {
    "kind": "tou",
    "rates_per_kwh": {"off_peak": "0.08", "day": "0.15", "peak": "0.20"},
    "weekday": DAY,
    "weekend": ["off_peak"] * 24,
    "holidays": "GB",
}
INDEXED = {
    "kind": "indexed",
    "market": "DE-LU",
    "multiplier": "1.20",
    "adder_per_kwh": "0.05",
    "peak_adder": {"from": "16:00", "to": "19:00", "per_kwh": "0.12"},
    "cap_per_kwh": "1.00",
    "floor_per_kwh": None,
}
DYNAMIC = {"kind": "dynamic", "market": "GB-N2EX", "rules": [{"kind": "demand_scaling", "alpha": "0.1"}]}


def document(energy: dict | None = None, **top_level: object) -> dict:
    """A deep copy of FULL with `energy` and top-level keys replaced (None removes a key)."""
    doc = copy.deepcopy(FULL)
    if energy is not None:
        doc["energy"] = copy.deepcopy(energy)
    for key, value in top_level.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


def with_path(doc: dict, path: tuple, value: object) -> dict:
    """A copy of `doc` with the value at `path` (keys and indices) replaced; `...` deletes it."""
    doc = copy.deepcopy(doc)
    target = doc
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def monthly(row_for_month: dict[int, list[str]], default: list[str]) -> list[list[str]]:
    return [row_for_month.get(month, default) for month in range(12)]


def test_the_example_of_the_format_parses_into_decimals():
    parsed = parse_tariff_document(FULL)

    assert parsed.currency == "GBP"
    assert parsed.timezone == "Europe/London"
    assert parsed.zone.key == "Europe/London"
    assert parsed.standing_charge_per_day == Decimal("0.4500")
    assert parsed.energy == FlatEnergy(rate_per_kwh=Decimal("0.2450"))
    assert parsed.demand_rate_per_kw == Decimal("8.50")
    assert parsed.events.critical_peak_per_kwh == Decimal("0.4000")
    assert parsed.events.rate_for("emergency") == Decimal("0.8000")
    assert parsed.tax == Tax(name="VAT", rate=Decimal("0.05"))


def test_only_format_currency_timezone_and_energy_are_required():
    parsed = parse_tariff_document(document(standing_charge_per_day=None, demand=None, events=None, tax=None))

    assert parsed.standing_charge_per_day is None
    assert parsed.demand_rate_per_kw is None
    assert parsed.events.critical_peak_per_kwh is None
    assert parsed.events.emergency_per_kwh is None
    assert parsed.tax is None


def test_a_tiered_document_keeps_its_tiers_in_order():
    assert parse_tariff_document(document(TIERED)).energy == TieredEnergy(
        tiers=(Tier(Decimal("300"), Decimal("0.20")), Tier(None, Decimal("0.25")))
    )


def test_a_tiered_document_may_bound_its_last_tier():
    energy = with_path(TIERED, ("tiers", 1, "up_to_kwh"), "500.5")

    assert parse_tariff_document(document(energy)).energy.tiers[1].up_to_kwh == Decimal("500.5")


def test_a_daily_tou_schedule_applies_to_every_month():
    energy = parse_tariff_document(document(TOU)).energy

    assert isinstance(energy, TouEnergy)
    assert dict(energy.rates_per_kwh) == {
        "off_peak": Decimal("0.08"),
        "day": Decimal("0.15"),
        "peak": Decimal("0.20"),
    }
    assert energy.weekday == (tuple(DAY),) * 12
    assert energy.weekend == (("off_peak",) * 24,) * 12
    assert energy.holidays == "GB"


def test_holidays_may_name_a_subdivision():
    energy = parse_tariff_document(document(with_path(TOU, ("holidays",), "GB-ENG"))).energy

    assert energy.holidays == "GB-ENG"


def test_a_monthly_tou_schedule_keeps_one_day_per_month():
    summer = ["day"] * 24
    energy = with_path(TOU, ("weekday",), monthly({6: summer, 7: summer}, DAY))

    parsed = parse_tariff_document(document(energy)).energy

    assert parsed.weekday[6] == tuple(summer)
    assert parsed.weekday[0] == tuple(DAY)


def test_an_indexed_document_parses_its_peak_adder_and_bounds():
    assert parse_tariff_document(document(INDEXED)).energy == IndexedEnergy(
        market="DE-LU",
        multiplier=Decimal("1.20"),
        adder_per_kwh=Decimal("0.05"),
        peak_adder=PeakAdder(start=time(16), end=time(19), per_kwh=Decimal("0.12")),
        cap_per_kwh=Decimal("1.00"),
        floor_per_kwh=None,
    )


def test_an_indexed_document_may_omit_peak_adder_cap_and_floor():
    energy = {"kind": "indexed", "market": "DE-LU", "multiplier": "1", "adder_per_kwh": "-0.01"}

    parsed = parse_tariff_document(document(energy)).energy

    assert (parsed.peak_adder, parsed.cap_per_kwh, parsed.floor_per_kwh) == (None, None, None)
    assert parsed.adder_per_kwh == Decimal("-0.01")


def test_a_dynamic_document_keeps_its_rules_free_form():
    parsed = parse_tariff_document(document(DYNAMIC)).energy

    assert isinstance(parsed, DynamicEnergy)
    assert parsed.market == "GB-N2EX"
    assert [(rule.kind, dict(rule.params)) for rule in parsed.rules] == [("demand_scaling", {"alpha": "0.1"})]
    assert parse_tariff_document(document({"kind": "dynamic", "market": "GB"})).energy.rules == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-500.00", Decimal("-500.00")), ("0.24500000", Decimal("0.245")), ("-0", Decimal("0")), ("7", 7)],
)
def test_decimal_strings_are_read_exactly(text, expected):
    rate = parse_tariff_document(document({"kind": "flat", "rate_per_kwh": text})).energy.rate_per_kwh

    assert rate == expected
    assert rate.is_signed() == (expected < 0)


def test_parsed_documents_are_frozen_and_hashable():
    parsed = parse_tariff_document(document(TOU))

    with pytest.raises(AttributeError):
        parsed.currency = "EUR"  # type: ignore[misc]
    assert hash(parsed) == hash(parse_tariff_document(document(TOU)))


@pytest.mark.parametrize(
    ("value", "micros"),
    [(Decimal("0.2450"), 245_000), (Decimal("-0.000001"), -1), (Decimal("12"), 12_000_000)],
)
def test_to_micros_is_exact(value, micros):
    assert to_micros(value) == micros


def test_to_micros_refuses_a_seventh_decimal_place():
    with pytest.raises(ValueError, match="more than 6 decimal places"):
        to_micros(Decimal("0.0000001"))


REJECTIONS = [
    # top level
    ("not an object", [FULL], ""),
    ("unknown top-level key", document(colour="green"), "colour"),
    ("missing currency", document(currency=None), "currency"),
    ("missing energy", with_path(FULL, ("energy",), ...), "energy"),
    ("wrong format", document(format="tariff/v2"), "format"),
    ("lower-case currency", document(currency="gbp"), "currency"),
    ("four-letter currency", document(currency="GBPX"), "currency"),
    ("unknown time zone", document(timezone="Europe/Londres"), "timezone"),
    ("time zone as a number", document(timezone=0), "timezone"),
    ("negative standing charge", document(standing_charge_per_day="-0.45"), "standing_charge_per_day"),
    ("standing charge as a float", document(standing_charge_per_day=0.45), "standing_charge_per_day"),
    ("unknown key in demand", with_path(FULL, ("demand", "unit"), "kW"), "demand.unit"),
    ("negative demand rate", with_path(FULL, ("demand", "rate_per_kw"), "-1"), "demand.rate_per_kw"),
    ("tax rate of one", with_path(FULL, ("tax", "rate"), "1"), "tax.rate"),
    ("negative tax rate", with_path(FULL, ("tax", "rate"), "-0.05"), "tax.rate"),
    ("empty tax name", with_path(FULL, ("tax", "name"), ""), "tax.name"),
    ("tax name too long for an invoice", with_path(FULL, ("tax", "name"), "V" * 101), "tax.name"),
    ("missing tax name", with_path(FULL, ("tax", "name"), ...), "tax.name"),
    ("unknown event kind", with_path(FULL, ("events", "flash"), {"rate_per_kwh": "1"}), "events.flash"),
    (
        "event rate as a float",
        with_path(FULL, ("events", "critical_peak", "rate_per_kwh"), 0.4),
        "events.critical_peak.rate_per_kwh",
    ),
    # energy
    ("energy not an object", with_path(FULL, ("energy",), "flat"), "energy"),
    ("missing kind", document({"rate_per_kwh": "0.1"}), "energy.kind"),
    ("unknown kind", document({"kind": "spot", "rate_per_kwh": "0.1"}), "energy.kind"),
    (
        "unknown key for the kind",
        document({"kind": "flat", "rate_per_kwh": "0.1", "tiers": []}),
        "energy.tiers",
    ),
    ("flat rate as a float", document({"kind": "flat", "rate_per_kwh": 0.245}), "energy.rate_per_kwh"),
    ("flat rate as an integer", document({"kind": "flat", "rate_per_kwh": 1}), "energy.rate_per_kwh"),
    ("flat rate as a boolean", document({"kind": "flat", "rate_per_kwh": True}), "energy.rate_per_kwh"),
    ("flat rate NaN", document({"kind": "flat", "rate_per_kwh": "NaN"}), "energy.rate_per_kwh"),
    ("flat rate Infinity", document({"kind": "flat", "rate_per_kwh": "Infinity"}), "energy.rate_per_kwh"),
    ("flat rate with exponent", document({"kind": "flat", "rate_per_kwh": "2.45e-1"}), "energy.rate_per_kwh"),
    ("flat rate with spaces", document({"kind": "flat", "rate_per_kwh": " 0.2"}), "energy.rate_per_kwh"),
    (
        "flat rate with 7 places",
        document({"kind": "flat", "rate_per_kwh": "0.2450001"}),
        "energy.rate_per_kwh",
    ),
    ("absurd flat rate", document({"kind": "flat", "rate_per_kwh": "1000000000000"}), "energy.rate_per_kwh"),
    # tiered
    ("no tiers", document({"kind": "tiered", "tiers": []}), "energy.tiers"),
    (
        "tier rate as a float",
        document(with_path(TIERED, ("tiers", 1, "rate_per_kwh"), 0.25)),
        "energy.tiers[1].rate_per_kwh",
    ),
    (
        "unbounded tier before the last",
        document(with_path(TIERED, ("tiers", 0, "up_to_kwh"), None)),
        "energy.tiers[0].up_to_kwh",
    ),
    (
        "descending tiers",
        document(
            with_path(with_path(TIERED, ("tiers", 1, "up_to_kwh"), "200"), ("tiers", 0, "up_to_kwh"), "300")
        ),
        "energy.tiers[1].up_to_kwh",
    ),
    (
        "zero tier bound",
        document(with_path(TIERED, ("tiers", 0, "up_to_kwh"), "0")),
        "energy.tiers[0].up_to_kwh",
    ),
    (
        "tier bound finer than 0.0001 kWh",
        document(with_path(TIERED, ("tiers", 0, "up_to_kwh"), "300.00001")),
        "energy.tiers[0].up_to_kwh",
    ),
    (
        "tier without bound key",
        document(with_path(TIERED, ("tiers", 1, "up_to_kwh"), ...)),
        "energy.tiers[1].up_to_kwh",
    ),
    (
        "tier with unknown key",
        document(with_path(TIERED, ("tiers", 0, "name"), "low")),
        "energy.tiers[0].name",
    ),
    # tou
    ("unknown period in a schedule", document(with_path(TOU, ("weekday", 3), "peek")), "energy.weekday[3]"),
    ("period name not a string", document(with_path(TOU, ("weekend", 0), 1)), "energy.weekend[0]"),
    ("schedule of 23 slots", document(with_path(TOU, ("weekday",), DAY[:23])), "energy.weekday"),
    ("schedule not a list", document(with_path(TOU, ("weekend",), "off_peak")), "energy.weekend"),
    ("monthly schedule of 11 months", document(with_path(TOU, ("weekday",), [DAY] * 11)), "energy.weekday"),
    (
        "month of 47 slots",
        document(with_path(TOU, ("weekday",), monthly({2: DAY[:47]}, DAY))),
        "energy.weekday[2]",
    ),
    (
        "unknown period in a month",
        document(
            with_path(TOU, ("weekday",), monthly({2: ["off_peak"] * 5 + ["x"] + ["off_peak"] * 18}, DAY))
        ),
        "energy.weekday[2][5]",
    ),
    ("missing weekend schedule", document(with_path(TOU, ("weekend",), ...)), "energy.weekend"),
    ("unsupported holiday country", document(with_path(TOU, ("holidays",), "XX")), "energy.holidays"),
    ("unknown holiday subdivision", document(with_path(TOU, ("holidays",), "GB-XYZ")), "energy.holidays"),
    ("holidays not a string", document(with_path(TOU, ("holidays",), 44)), "energy.holidays"),
    ("empty rates", document(with_path(TOU, ("rates_per_kwh",), {})), "energy.rates_per_kwh"),
    (
        "period rate as a float",
        document(with_path(TOU, ("rates_per_kwh", "peak"), 0.2)),
        "energy.rates_per_kwh.peak",
    ),
    (
        "period named after an event",
        document(with_path(TOU, ("rates_per_kwh", "emergency"), "0.9")),
        "energy.rates_per_kwh.emergency",
    ),
    (
        "period name with a dot",
        document(with_path(TOU, ("rates_per_kwh", "a.b"), "0.9")),
        "energy.rates_per_kwh",
    ),
    # indexed
    ("floor above cap", document(with_path(INDEXED, ("floor_per_kwh",), "1.01")), "energy.floor_per_kwh"),
    ("missing adder", document(with_path(INDEXED, ("adder_per_kwh",), ...)), "energy.adder_per_kwh"),
    (
        "multiplier with 7 places",
        document(with_path(INDEXED, ("multiplier",), "1.2000001")),
        "energy.multiplier",
    ),
    ("empty market code", document(with_path(INDEXED, ("market",), "")), "energy.market"),
    ("cap as a float", document(with_path(INDEXED, ("cap_per_kwh",), 1.0)), "energy.cap_per_kwh"),
    (
        "peak start 25:00",
        document(with_path(INDEXED, ("peak_adder", "from"), "25:00")),
        "energy.peak_adder.from",
    ),
    ("peak end 4pm", document(with_path(INDEXED, ("peak_adder", "to"), "4pm")), "energy.peak_adder.to"),
    (
        "empty peak window",
        document(with_path(INDEXED, ("peak_adder", "to"), "16:00")),
        "energy.peak_adder.to",
    ),
    (
        "peak adder without rate",
        document(with_path(INDEXED, ("peak_adder", "per_kwh"), ...)),
        "energy.peak_adder.per_kwh",
    ),
    (
        "unknown key in peak adder",
        document(with_path(INDEXED, ("peak_adder", "days"), "mon")),
        "energy.peak_adder.days",
    ),
    # dynamic
    ("dynamic without market", document({"kind": "dynamic"}), "energy.market"),
    ("rules not a list", document(with_path(DYNAMIC, ("rules",), {"kind": "x"})), "energy.rules"),
    ("rule not an object", document(with_path(DYNAMIC, ("rules",), [{"kind": "x"}, "y"])), "energy.rules[1]"),
    ("rule without kind", document(with_path(DYNAMIC, ("rules", 0, "kind"), ...)), "energy.rules[0].kind"),
    ("rule kind not a string", document(with_path(DYNAMIC, ("rules", 0, "kind"), 3)), "energy.rules[0].kind"),
]


@pytest.mark.parametrize(
    ("doc", "field"), [case[1:] for case in REJECTIONS], ids=[case[0] for case in REJECTIONS]
)
def test_an_invalid_document_is_rejected_naming_the_field(doc, field):
    with pytest.raises(InvalidTariffDocument) as caught:
        parse_tariff_document(doc)

    assert caught.value.field == field
    assert caught.value.code == "invalid_tariff_document"
    assert caught.value.message in str(caught.value)


@pytest.mark.parametrize(
    ("doc", "shown"),
    [
        (document({"kind": "flat", "rate_per_kwh": 0.245}), "0.245"),
        (document({"kind": "flat", "rate_per_kwh": "0.2450001"}), "'0.2450001'"),
        (document(with_path(TOU, ("weekday", 3), "peek")), "'peek'"),
        (document(timezone="Europe/Londres"), '"Europe/Londres"'),
        (document(with_path(INDEXED, ("floor_per_kwh",), "1.01")), "floor 1.01 is above cap 1.00"),
    ],
)
def test_the_message_shows_the_bad_value(doc, shown):
    with pytest.raises(InvalidTariffDocument) as caught:
        parse_tariff_document(doc)

    assert shown in caught.value.message


def test_only_the_first_error_is_reported():
    energy = with_path(
        with_path(TIERED, ("tiers", 0, "rate_per_kwh"), 0.2), ("tiers", 1, "rate_per_kwh"), 0.3
    )

    with pytest.raises(InvalidTariffDocument) as caught:
        parse_tariff_document(document(energy, currency="gbp"))

    assert caught.value.field == "currency"
    with pytest.raises(InvalidTariffDocument) as caught:
        parse_tariff_document(document(energy))
    assert caught.value.field == "energy.tiers[0].rate_per_kwh"
