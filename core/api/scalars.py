"""Scalars shared by every app's schema."""

import datetime
import re
from decimal import Decimal
from typing import Any

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode, value_from_ast_untyped

MAX_ABS_DECIMAL = Decimal("1e12")
MAX_FRACTION_DIGITS = 12
# Plain ASCII decimal notation: an optional minus, digits, optionally a point and more digits. No exponent,
# no underscores, no other scripts' digits, no leading '+' or bare point: what `Decimal()` alone would take
# ("1e-400", "1_000", "١٢") is refused, so a value means exactly what it shows.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
# Longer than any in-range value can be (12 integer and 12 fraction digits, sign, point): refuse before
# looking further, so a 100,000-digit string costs nothing.
_MAX_TEXT_LENGTH = 1 + 12 + 1 + MAX_FRACTION_DIGITS


def parse_decimal(value: object) -> Decimal:
    """An API Decimal: a string (or a GraphQL Int) in plain decimal notation, finite and in range.

    Refused with a message a client can act on: floats (binary, inexact), NaN and infinities, exponents,
    underscores and non-ASCII digits, negative zero, more than 12 fraction digits, |value| ≥ 1e12.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError('Decimal values are sent as strings, e.g. "0.2450".')
    if isinstance(value, int):
        if abs(value) >= MAX_ABS_DECIMAL:
            raise ValueError("The value is out of range (absolute value below 1e12).")
        return Decimal(value)
    text = value.strip()
    if text.lstrip("+-").lower() in ("nan", "snan", "inf", "infinity"):
        raise ValueError("NaN and infinite values are not accepted.")
    if len(text) > _MAX_TEXT_LENGTH:
        raise ValueError(
            f"Too many digits: at most 12 before and {MAX_FRACTION_DIGITS} after the decimal point."
        )
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(
            f"'{text[:40]}' is not a plain decimal number: use digits 0-9, an optional leading '-' and "
            'an optional decimal point, e.g. "-12.50" (no exponent, underscores or other digits).'
        )
    parsed = Decimal(text)
    if parsed.is_zero() and text.startswith("-"):
        raise ValueError(f"'{text}' is a negative zero; send zero without a sign.")
    if -parsed.as_tuple().exponent > MAX_FRACTION_DIGITS:  # type: ignore[operator]
        raise ValueError(f"At most {MAX_FRACTION_DIGITS} digits after the decimal point.")
    if abs(parsed) >= MAX_ABS_DECIMAL:
        raise ValueError(f"'{text}' is out of range (absolute value below 1e12).")
    return parsed


def parse_decimal_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Decimal:
    """An inline literal: `"0.2450"` or `15`; the digits are checked as text, before any int() of them."""
    if isinstance(node, (StringValueNode, IntValueNode)):
        return parse_decimal(node.value)
    if isinstance(node, FloatValueNode):
        raise ValueError('Decimal values are sent as strings, e.g. "0.2450".')
    return parse_decimal(value_from_ast_untyped(node, variables))


SafeDecimal = strawberry.scalar(
    name="Decimal",
    description=(
        'A decimal number sent and returned as a string in plain notation ("-12.50"): at most 12 digits '
        "before and 12 after the point; NaN, infinities, exponents and negative zero are refused."
    ),
    serialize=str,
    parse_value=parse_decimal,
    parse_literal=parse_decimal_literal,
)


# Dates and instants a client may send: far enough either way for any tariff, reading or forecast, and
# clear of the calendar's ends, where adding a day or an hour would overflow.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2999, 12, 31)


def _in_range(day: datetime.date) -> None:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"Dates must lie between {EARLIEST_DATE} and {LATEST_DATE}.")


def parse_date(value: object) -> datetime.date:
    """A `YYYY-MM-DD` date within EARLIEST_DATE..LATEST_DATE."""
    if not isinstance(value, str):
        raise ValueError("A Date is a string YYYY-MM-DD.")
    day = datetime.date.fromisoformat(value)
    _in_range(day)
    return day


def parse_datetime(value: object) -> datetime.datetime:
    """An ISO 8601 date and time (an offset is required by the operations that need one), within range."""
    if not isinstance(value, str):
        raise ValueError("A DateTime is an ISO 8601 string, e.g. 2024-01-15T00:00:00Z.")
    moment = datetime.datetime.fromisoformat(value)
    _in_range(moment.date())
    return moment


BoundedDate = strawberry.scalar(
    name="Date",
    description=f"A date, YYYY-MM-DD, between {EARLIEST_DATE} and {LATEST_DATE}.",
    serialize=lambda value: value.isoformat(),
    parse_value=parse_date,
)

BoundedDateTime = strawberry.scalar(
    name="DateTime",
    description=(
        "A date and time in ISO 8601 with its UTC offset (e.g. 2024-01-15T00:00:00Z), "
        f"between {EARLIEST_DATE} "
        f"and {LATEST_DATE}."
    ),
    serialize=lambda value: value.isoformat(),
    parse_value=parse_datetime,
)
