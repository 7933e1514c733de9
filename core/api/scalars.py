"""Scalars shared by every app's schema."""

from decimal import Decimal, InvalidOperation

import strawberry

MAX_ABS_DECIMAL = Decimal("1e12")


def parse_decimal(value: object) -> Decimal:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError('Decimal values are sent as strings, e.g. "0.2450".')
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a decimal number.") from None
    if not parsed.is_finite():
        raise ValueError("NaN and infinite values are not accepted.")
    if abs(parsed) >= MAX_ABS_DECIMAL:
        raise ValueError(f"'{value}' is out of range (absolute value below 1e12).")
    return parsed


SafeDecimal = strawberry.scalar(
    name="Decimal",
    description=(
        "A decimal number sent and returned as a string; NaN, infinities and absurd magnitudes are refused."
    ),
    serialize=str,
    parse_value=parse_decimal,
)
