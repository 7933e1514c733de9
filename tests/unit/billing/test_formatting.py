"""How bills write money, unit prices, quantities, dates and periods (billing.exports.formatting)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.exports import formatting as fmt

THIN = "\u2009"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("29.75", "GBP", "£29.75"),
        ("1234.5", "GBP", "£1,234.50"),
        ("-3.10", "GBP", "-£3.10"),
        ("0", "GBP", "£0.00"),
        ("884", "JPY", "JP¥884"),
        ("12.30", "EUR", "€12.30"),
    ],
)
def test_money_is_written_for_the_locale_with_the_currency_symbol(amount, currency, expected):
    assert fmt.money(Decimal(amount), currency, locale="en_GB") == expected


def test_money_follows_another_locale():
    assert fmt.money(Decimal("1234.5"), "EUR", locale="de_DE") == "1.234,50\xa0€"


def test_no_amount_is_an_empty_cell():
    assert fmt.money(None, "GBP") == ""
    assert fmt.pence_per_kwh(None) == ""
    assert fmt.day(None) == ""


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("0.300000", "30.00p/kWh"),
        ("0.245678", "24.568p/kWh"),  # ROUND_HALF_UP to a thousandth of a penny
        ("0.2456785", "24.568p/kWh"),
        ("0.039900", "3.99p/kWh"),
        ("-0.012345", "-1.235p/kWh"),  # a negative rate (plunge pricing) keeps its sign
        ("12.5", "1,250.00p/kWh"),
    ],
)
def test_unit_rates_are_in_pence_per_kwh_to_sensible_precision(rate, expected):
    assert fmt.pence_per_kwh(Decimal(rate), "GBP", locale="en_GB") == expected


def test_a_standing_charge_is_in_pence_per_day_and_other_currencies_use_their_minor_unit():
    assert fmt.unit_price(Decimal("0.5335"), "GBP", "day", locale="en_GB") == "53.35p/day"
    assert fmt.unit_price(Decimal("0.25"), "EUR", "kWh", locale="en_GB") == "25.00c/kWh"
    assert fmt.unit_price(Decimal("0.045"), "KWD", "kWh", locale="en_GB") == "KWD0.045/kWh"
    assert fmt.unit_price(Decimal("0.04567"), "KWD", "kWh", locale="en_GB") == "KWD0.0457/kWh"


def test_quantities_show_kwh_to_two_decimals_and_whole_days():
    assert fmt.quantity(Decimal("1234.5678"), "kWh", locale="en_GB") == "1,234.57 kWh"
    assert fmt.quantity(Decimal("31.0000"), "day", locale="en_GB") == "31 days"
    assert fmt.quantity(Decimal("1.0000"), "day", locale="en_GB") == "1 day"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 1, 1), date(2026, 2, 1), f"1{THIN}–{THIN}31 Jan 2026"),  # end is exclusive
        (date(2026, 1, 15), date(2026, 2, 15), f"15 Jan{THIN}–{THIN}14 Feb 2026"),
        (date(2025, 12, 15), date(2026, 1, 15), f"15 Dec 2025{THIN}–{THIN}14 Jan 2026"),
        (date(2026, 3, 29), date(2026, 3, 30), "29 Mar 2026"),  # one day (a DST day too)
    ],
)
def test_a_period_is_written_as_its_first_and_last_day(start, end, expected):
    assert fmt.period(start, end, locale="en_GB") == expected


def test_a_date_and_a_datetime_are_written_as_a_day():
    assert fmt.day(date(2026, 1, 9), locale="en_GB") == "9 Jan 2026"
    assert fmt.day(datetime(2026, 1, 9, 23, 59, tzinfo=UTC), locale="en_GB") == "9 Jan 2026"


def test_tax_rates_are_percentages_without_trailing_zeros():
    assert fmt.percent(Decimal("0.050000"), locale="en_GB") == "5%"
    assert fmt.percent(Decimal("0.175"), locale="en_GB") == "17.5%"
