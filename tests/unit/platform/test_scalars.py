from decimal import Decimal

import pytest

from core.api.scalars import parse_decimal


@pytest.mark.parametrize("text", ["0.2450", "-500.00", "12", "0", "999999999999.999999999999"])
def test_decimal_strings_are_parsed_exactly(text):
    assert parse_decimal(text) == Decimal(text)


def test_graphql_ints_are_accepted_as_decimals():
    assert parse_decimal(15) == Decimal(15)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NaN", "NaN and infinite"),
        ("sNaN", "NaN and infinite"),
        ("Infinity", "NaN and infinite"),
        ("-Infinity", "NaN and infinite"),
        ("-inf", "NaN and infinite"),
        ("1000000000000", "out of range"),
        (10**12, "out of range"),
        ("abc", "not a plain decimal"),
        (0.1, "sent as strings"),
        (True, "sent as strings"),
    ],
)
def test_bad_decimals_are_refused_with_a_clear_message(value, message):
    with pytest.raises(ValueError, match=message):
        parse_decimal(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-0", "negative zero"),
        ("-0.000", "negative zero"),
        ("١٢", "not a plain decimal"),  # Arabic-Indic digits
        ("１２", "not a plain decimal"),  # full-width digits
        ("1_000", "not a plain decimal"),
        ("1e-400", "not a plain decimal"),
        ("1e400", "not a plain decimal"),
        ("1E3", "not a plain decimal"),
        ("+1", "not a plain decimal"),
        (".5", "not a plain decimal"),
        ("5.", "not a plain decimal"),
        ("1.0000000000001", "fraction|after the decimal point"),
        ("1" * 100_000, "Too many digits"),
        ("0." + "1" * 13, "after the decimal point"),
    ],
)
def test_only_plain_ascii_decimals_in_range_are_accepted(value, message):
    """RELIABILITY check 11 (decimal and number input hardening): "-0", other scripts' digits, underscores,
    exponents and huge digit counts are refused, not silently turned into numbers."""
    with pytest.raises(ValueError, match=message):
        parse_decimal(value)
