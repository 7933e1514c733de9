"""Minor units of currencies (ISO 4217): how many decimals an amount in that currency has.

JPY has none (884 yen), KWD three (0.003 dinar), most currencies two. Every amount of a bill is rounded
ROUND_HALF_UP to its currency's minor unit with `money_round`; Django-free, used by the bill arithmetic
(`billing.engine`) and by the models when they load stored amounts.

The table lists the ISO 4217 currencies whose minor unit is not 2 (list one, published by SIX); every
other code has 2. CLDR (babel's `get_currency_precision`) agrees for the currencies tested, but differs
from ISO 4217 for a few (e.g. IQD, where CLDR gives 0 and ISO 4217 gives 3); billing follows ISO 4217.
"""

from decimal import ROUND_HALF_UP, Decimal

MINOR_UNITS: dict[str, int] = {
    # no minor unit
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # thousandths
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # ten-thousandths
    "CLF": 4, "UYW": 4,
}  # fmt: skip
DEFAULT_MINOR_UNIT = 2
# The most decimals an amount column holds (KWD's 3; the 4-decimal units of account are not billed).
STORED_PLACES = 3


def minor_unit(currency: str) -> int:
    """The number of decimals of `currency` (ISO 4217 code): JPY 0, GBP 2, KWD 3."""
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNIT)


def quantum(currency: str) -> Decimal:
    """The smallest amount of `currency` as a Decimal exponent: JPY 1, GBP 0.01, KWD 0.001."""
    return Decimal(1).scaleb(-minor_unit(currency))


def money_round(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half away from zero (ROUND_HALF_UP) to the minor unit of `currency`."""
    return amount.quantize(quantum(currency), ROUND_HALF_UP)


def money_round_e10(amount_e10: int, currency: str) -> Decimal:
    """An exact amount in 1e-10 units of `currency` rounded ROUND_HALF_UP to its minor unit."""
    return money_round(Decimal(amount_e10).scaleb(-10), currency)
