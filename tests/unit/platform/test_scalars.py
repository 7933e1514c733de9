from decimal import Decimal

import pytest

from core.api.scalars import parse_decimal


@pytest.mark.parametrize("text", ["0.2450", "-500.00", "12", "0"])
def test_decimal_strings_are_parsed_exactly(text):
    assert parse_decimal(text) == Decimal(text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NaN", "NaN and infinite"),
        ("Infinity", "NaN and infinite"),
        ("-inf", "NaN and infinite"),
        ("1e12", "out of range"),
        ("abc", "not a decimal"),
        (0.1, "sent as strings"),
        (True, "sent as strings"),
    ],
)
def test_bad_decimals_are_refused_with_a_clear_message(value, message):
    with pytest.raises(ValueError, match=message):
        parse_decimal(value)
