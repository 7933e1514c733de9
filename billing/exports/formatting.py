"""How a bill writes money, unit prices, energy, dates and periods: one module for the portal, the PDF and
the admin, so a bill reads the same everywhere.

Money is written for the locale with Babel (CLDR): `£29.75`, `-£3.10`, `JP¥884`; unit prices in the
currency's minor unit per kWh (`24.567p/kWh` for GBP, `24.5c/kWh` for EUR) or, for currencies without a
common minor-unit symbol, in the major unit to at most four decimals (`KWD0.0457/kWh`); a period
`[start, end)` of local dates as its first and last day (`1 – 31 Jan 2026`, `15 Jan – 14 Feb 2026`).
Amounts are rounded ROUND_HALF_UP here (display only); billed amounts are already rounded to the
currency's minor unit.
"""

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_interval
from babel.numbers import NumberPattern, parse_pattern

DEFAULT_LOCALE = "en_GB"
# Currencies whose unit prices are quoted in their minor unit, with its symbol (p/kWh, c/kWh, ¢/kWh).
MINOR_UNIT_SYMBOLS: dict[str, str] = {"GBP": "p", "EUR": "c", "USD": "¢", "AUD": "c", "NZD": "c", "CAD": "¢"}
_PRICE_PLACES = Decimal(
    "0.001"
)  # 24.567p: a tenth of a thousandth of a pound is below any tariff's precision
_MAJOR_PRICE_PLACES = Decimal("0.0001")
_KWH_PLACES = Decimal("0.01")


@lru_cache(maxsize=32)
def _locale_of(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=32)
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def format_decimal(value: Decimal, format: str | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """babel's format_decimal with the parsed locale and pattern cached (a bill page writes hundreds)."""
    loc = _locale_of(locale)
    pattern = _pattern(format) if format else loc.decimal_formats[None]
    return pattern.apply(value, loc)


def _locale(locale: str | None) -> str:
    if locale:
        return locale
    try:
        from django.conf import settings

        return str(settings.BILL_LOCALE) if settings.configured else DEFAULT_LOCALE
    except AttributeError:
        return DEFAULT_LOCALE


def money(amount: Decimal | None, currency: str, *, locale: str | None = None) -> str:
    """`amount` of `currency` for the locale: Decimal("29.75"), "GBP" -> "£29.75"; None -> ""."""
    if amount is None:
        return ""
    loc = _locale_of(_locale(locale))
    pattern = loc.currency_formats["standard"]
    return pattern.apply(amount, loc, currency=currency, currency_digits=True, decimal_quantization=False)


def unit_price(value: Decimal | None, currency: str, unit: str = "kWh", *, locale: str | None = None) -> str:
    """A price per `unit` in the currency's minor unit where it has a usual symbol: Decimal("0.245678"),
    "GBP" -> "24.568p/kWh"; Decimal("0.5335"), "GBP", "day" -> "53.35p/day"; None -> ""."""
    if value is None:
        return ""
    symbol = MINOR_UNIT_SYMBOLS.get(currency)
    if symbol is None:
        rounded = value.quantize(_MAJOR_PRICE_PLACES, ROUND_HALF_UP)
        return f"{money(rounded, currency, locale=locale)}/{unit}"
    minor = (value * 100).quantize(_PRICE_PLACES, ROUND_HALF_UP)
    return f"{format_decimal(minor, format='#,##0.00#', locale=_locale(locale))}{symbol}/{unit}"


def pence_per_kwh(value: Decimal | None, currency: str = "GBP", *, locale: str | None = None) -> str:
    """A unit rate per kWh: Decimal("0.245678") -> "24.568p/kWh"."""
    return unit_price(value, currency, "kWh", locale=locale)


def quantity(value: Decimal | None, unit: str, *, locale: str | None = None) -> str:
    """An amount of energy or days: Decimal("1234.5678"), "kWh" -> "1,234.57 kWh"; days without decimals."""
    if value is None:
        return ""
    if unit == "day":
        days = value.quantize(Decimal(1), ROUND_HALF_UP)
        return f"{format_decimal(days, locale=_locale(locale))} {'day' if days == 1 else 'days'}"
    rounded = value.quantize(_KWH_PLACES, ROUND_HALF_UP)
    return f"{format_decimal(rounded, format='#,##0.00', locale=_locale(locale))} {unit}"


def day(value: date | datetime | None, *, locale: str | None = None) -> str:
    """A date: 2026-01-09 -> "9 Jan 2026"; None -> ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "d MMM y", locale=_locale(locale))


def period(start: date, end: date, *, locale: str | None = None) -> str:
    """The local dates `[start, end)` as first and last day: (1 Jan, 1 Feb 2026) -> "1 – 31 Jan 2026"
    (thin spaces around the en dash, as CLDR writes intervals)."""
    last = end - timedelta(days=1) if end > start else start
    if last == start:
        return day(start, locale=locale)
    return format_interval(start, last, "yMMMd", locale=_locale(locale))


def percent(rate: Decimal, *, locale: str | None = None) -> str:
    """A tax rate given as a fraction: Decimal("0.05") -> "5%", Decimal("0.175") -> "17.5%"."""
    return format_decimal(rate * 100, format="#,##0.##", locale=_locale(locale)) + "%"
