"""Parse and validate tariff documents of format `tariff/v1` (see docs/tariff-format.md).

`parse_tariff_document` turns the JSON-like dict into frozen dataclasses holding `Decimal` amounts, or raises
`InvalidTariffDocument` naming the first offending field by its dotted path (`energy.tiers[1].rate_per_kwh`).
Pure Python: no Django, so the rate engine and the benchmarks can use it on their own.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

import holidays

FORMAT = "tariff/v1"
EVENT_KINDS = ("critical_peak", "emergency")
MAX_ABS_DECIMAL = Decimal("1e12")
RATE_PLACES = 6
TAX_NAME_MAX_LENGTH = 100  # invoices store the name (billing.InvoiceTax.name)
KWH_PLACES = 4

_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_PERIOD_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_MARKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


class InvalidTariffDocument(Exception):
    """A tariff document broke a rule of `tariff/v1`; `field` is the dotted path of the offending value."""

    code = "invalid_tariff_document"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field or 'document'}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class FlatEnergy:
    """One rate for every interval."""

    rate_per_kwh: Decimal
    kind: Literal["flat"] = "flat"


@dataclass(frozen=True)
class Tier:
    """A tier covers cumulative consumption up to `up_to_kwh` (None: no upper bound)."""

    up_to_kwh: Decimal | None
    rate_per_kwh: Decimal


@dataclass(frozen=True)
class TieredEnergy:
    """Rates by cumulative consumption in the billing period; bounds ascend, only the last may be None."""

    tiers: tuple[Tier, ...]
    kind: Literal["tiered"] = "tiered"


@dataclass(frozen=True)
class TouEnergy:
    """Time-of-use rates (a read-only mapping in document order). Schedules are normalised to 12 rows
    (January…December) of 24 or 48 period names; `holidays` is a country code of the holidays package,
    optionally with a subdivision (`GB-ENG`)."""

    rates_per_kwh: Mapping[str, Decimal] = field(hash=False)
    weekday: tuple[tuple[str, ...], ...]
    weekend: tuple[tuple[str, ...], ...]
    holidays: str | None = None
    kind: Literal["tou"] = "tou"


@dataclass(frozen=True)
class PeakAdder:
    """An adder for market intervals whose local start time is in `[start, end)`; wraps past midnight."""

    start: time
    end: time
    per_kwh: Decimal


@dataclass(frozen=True)
class IndexedEnergy:
    """Rates that follow a wholesale market: multiplier * price_per_mwh / 1000 + adders, within floor/cap."""

    market: str
    multiplier: Decimal
    adder_per_kwh: Decimal
    peak_adder: PeakAdder | None = None
    cap_per_kwh: Decimal | None = None
    floor_per_kwh: Decimal | None = None
    kind: Literal["indexed"] = "indexed"


@dataclass(frozen=True)
class DynamicRule:
    """One pricing-engine rule; its parameters are free-form and validated by the engine that uses them."""

    kind: str
    params: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True)
class DynamicEnergy:
    """Rates published by the pricing engine; the document only holds the engine's parameters."""

    market: str
    rules: tuple[DynamicRule, ...] = ()
    kind: Literal["dynamic"] = "dynamic"


Energy = FlatEnergy | TieredEnergy | TouEnergy | IndexedEnergy | DynamicEnergy


@dataclass(frozen=True)
class EventRates:
    """Rates charged while an event of that kind is active; None when the tariff does not price it."""

    critical_peak_per_kwh: Decimal | None = None
    emergency_per_kwh: Decimal | None = None

    def rate_for(self, kind: str) -> Decimal | None:
        """The rate of event `kind` ("critical_peak" or "emergency")."""
        rate: Decimal | None = getattr(self, f"{kind}_per_kwh")
        return rate


@dataclass(frozen=True)
class Tax:
    """A tax on the net of a version's lines, e.g. VAT at 0.05."""

    name: str
    rate: Decimal


@dataclass(frozen=True)
class DemandTou:
    """Time-of-use demand: per period, the highest average kW of the period's windows × its rate.
    Schedules as in `TouEnergy` (12 rows of 24 or 48 period names)."""

    rates_per_kw: Mapping[str, Decimal] = field(hash=False)
    weekday: tuple[tuple[str, ...], ...]
    weekend: tuple[tuple[str, ...], ...]
    holidays: str | None = None


@dataclass(frozen=True)
class Ratchet:
    """Billed demand is at least `percent` % of the highest demand of the `months` months before the
    period."""

    percent: Decimal
    months: int


@dataclass(frozen=True)
class CoincidentPeak:
    """The customer's average kW over the `intervals` intervals of the period where the feeder's (or the
    whole system's) import is highest, × `rate_per_kw`."""

    rate_per_kw: Decimal
    basis: Literal["feeder", "system"] = "feeder"
    intervals: int = 1


@dataclass(frozen=True)
class Rider:
    """A surcharge (positive) or credit (negative): `fixed` per month, or `percentage` of the version's other
    lines. `tax`: "tariff" (the version's tax), "exempt", or a `Tax` of its own."""

    name: str
    kind: Literal["fixed", "percentage"]
    amount_per_month: Decimal | None = None
    rate: Decimal | None = None
    tax: "Tax | Literal['tariff', 'exempt']" = "tariff"


@dataclass(frozen=True)
class TariffDocument:
    """A validated `tariff/v1` document; amounts are `Decimal` exactly as written."""

    currency: str
    timezone: str
    energy: Energy
    standing_charge_per_day: Decimal | None = None
    demand_rate_per_kw: Decimal | None = None
    events: EventRates = EventRates()
    tax: Tax | None = None
    format: str = FORMAT
    # Commercial and industrial charges (docs/commercial-tariffs.md); all optional.
    demand_averaging_minutes: int | None = None
    demand_tou: DemandTou | None = None
    demand_ratchet: Ratchet | None = None
    coincident_peak: CoincidentPeak | None = None
    minimum_charge_per_month: Decimal | None = None
    riders: tuple[Rider, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        """The tariff's time zone, in which schedules and billing days are read."""
        return ZoneInfo(self.timezone)


def to_micros(d: Decimal) -> int:
    """`d` in millionths, exactly; refuses values with more than 6 significant decimal places."""
    scaled = d.scaleb(RATE_PLACES)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{d} has more than {RATE_PLACES} decimal places")
    return int(scaled)


def parse_tariff_document(data: object) -> TariffDocument:
    """Validate a `tariff/v1` document and return it as frozen dataclasses; raise on the first error."""
    doc = _object(
        data,
        "",
        required=("format", "currency", "timezone", "energy"),
        optional=("standing_charge_per_day", "demand", "events", "tax", "minimum_charge_per_month", "riders"),
    )
    if doc["format"] != FORMAT:
        raise InvalidTariffDocument("format", f"must be {FORMAT!r}, got {_describe(doc['format'])}")
    currency = doc["currency"]
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise InvalidTariffDocument(
            "currency",
            f"must be a 3-letter ISO 4217 code in capitals such as 'GBP', got {_describe(currency)}",
        )
    timezone = doc["timezone"]
    if not isinstance(timezone, str) or timezone not in _timezones():
        raise InvalidTariffDocument(
            "timezone", f"must be an IANA time zone such as 'Europe/London', got {_describe(timezone)}"
        )
    energy = _energy(doc["energy"], "energy")
    standing = None
    if "standing_charge_per_day" in doc:
        standing = _decimal(doc["standing_charge_per_day"], "standing_charge_per_day", non_negative=True)
    demand = _demand(doc["demand"], "demand") if "demand" in doc else _DemandParts()
    events = _events(doc["events"], "events") if "events" in doc else EventRates()
    tax = _tax(doc["tax"], "tax") if "tax" in doc else None
    minimum = None
    if "minimum_charge_per_month" in doc:
        minimum = _decimal(
            doc["minimum_charge_per_month"], "minimum_charge_per_month", places=2, non_negative=True
        )
    riders = _riders(doc["riders"], "riders") if "riders" in doc else ()
    return TariffDocument(
        currency=currency,
        timezone=timezone,
        energy=energy,
        standing_charge_per_day=standing,
        events=events,
        tax=tax,
        minimum_charge_per_month=minimum,
        riders=riders,
        demand_rate_per_kw=demand.rate_per_kw,
        demand_averaging_minutes=demand.averaging_minutes,
        demand_tou=demand.tou,
        demand_ratchet=demand.ratchet,
        coincident_peak=demand.coincident_peak,
    )


DEMAND_AVERAGING_MINUTES = (15, 30, 60)
RIDER_NAME_MAX_LENGTH = 100


@dataclass
class _DemandParts:
    rate_per_kw: Decimal | None = None
    averaging_minutes: int | None = None
    tou: DemandTou | None = None
    ratchet: Ratchet | None = None
    coincident_peak: CoincidentPeak | None = None


def _demand(value: object, path: str) -> _DemandParts:
    """The demand charges: the facility rate, time-of-use demand, a ratchet, coincident peak demand and the
    averaging window; at least one charge."""
    doc = _object(
        value, path, optional=("rate_per_kw", "averaging_minutes", "tou", "ratchet", "coincident_peak")
    )
    result = _DemandParts()
    if "rate_per_kw" in doc:
        result.rate_per_kw = _decimal(doc["rate_per_kw"], f"{path}.rate_per_kw", non_negative=True)
    if not {"rate_per_kw", "tou", "coincident_peak"} & set(doc):
        raise InvalidTariffDocument(
            f"{path}.rate_per_kw", "is required unless demand has 'tou' or 'coincident_peak'"
        )
    if "averaging_minutes" in doc:
        minutes = doc["averaging_minutes"]
        if isinstance(minutes, bool) or minutes not in DEMAND_AVERAGING_MINUTES:
            raise InvalidTariffDocument(
                f"{path}.averaging_minutes", f"must be the number 15, 30 or 60, got {_describe(minutes)}"
            )
        result.averaging_minutes = int(minutes)
    if "tou" in doc:
        result.tou = _demand_tou(doc["tou"], f"{path}.tou")
    if "ratchet" in doc:
        if "rate_per_kw" not in doc:
            raise InvalidTariffDocument(
                f"{path}.ratchet", "applies to the facility demand: demand.rate_per_kw is required with it"
            )
        ratchet = _object(doc["ratchet"], f"{path}.ratchet", required=("percent", "months"))
        percent = _decimal(ratchet["percent"], f"{path}.ratchet.percent", places=4, non_negative=True)
        if not 0 < percent <= 100:
            raise InvalidTariffDocument(
                f"{path}.ratchet.percent", f"must be above 0 and at most 100, got {ratchet['percent']!r}"
            )
        months = ratchet["months"]
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 36:
            raise InvalidTariffDocument(
                f"{path}.ratchet.months", f"must be a whole number from 1 to 36, got {_describe(months)}"
            )
        result.ratchet = Ratchet(percent=percent, months=months)
    if "coincident_peak" in doc:
        where = f"{path}.coincident_peak"
        peak = _object(
            doc["coincident_peak"], where, required=("rate_per_kw",), optional=("basis", "intervals")
        )
        basis = peak.get("basis", "feeder")
        if basis not in ("feeder", "system"):
            raise InvalidTariffDocument(
                f"{where}.basis", f"must be 'feeder' or 'system', got {_describe(basis)}"
            )
        count = peak.get("intervals", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
            raise InvalidTariffDocument(
                f"{where}.intervals", f"must be a whole number from 1 to 100, got {_describe(count)}"
            )
        result.coincident_peak = CoincidentPeak(
            rate_per_kw=_decimal(peak["rate_per_kw"], f"{where}.rate_per_kw", non_negative=True),
            basis=basis,
            intervals=count,
        )
    return result


def _demand_tou(value: object, path: str) -> DemandTou:
    doc = _object(value, path, required=("rates_per_kw", "weekday", "weekend"), optional=("holidays",))
    rates_path = f"{path}.rates_per_kw"
    rates_doc = doc["rates_per_kw"]
    if not isinstance(rates_doc, dict) or not rates_doc:
        raise InvalidTariffDocument(rates_path, f"must be a non-empty object, got {_describe(rates_doc)}")
    rates: dict[str, Decimal] = {}
    for name, rate in rates_doc.items():
        if not isinstance(name, str) or not _PERIOD_NAME.fullmatch(name):
            raise InvalidTariffDocument(
                rates_path, f"period names are 1-40 letters, digits, '_' or '-', got {name!r}"
            )
        if name in ("ratchet", "coincident_peak"):
            raise InvalidTariffDocument(
                f"{rates_path}.{name}", f"{name!r} is reserved for another demand charge"
            )
        rates[name] = _decimal(rate, f"{rates_path}.{name}", non_negative=True)
    return DemandTou(
        rates_per_kw=MappingProxyType(rates),
        weekday=_schedule(doc["weekday"], f"{path}.weekday", rates),
        weekend=_schedule(doc["weekend"], f"{path}.weekend", rates),
        holidays=_holiday_calendar(doc["holidays"], f"{path}.holidays") if "holidays" in doc else None,
    )


def _riders(value: object, path: str) -> tuple[Rider, ...]:
    if not isinstance(value, list):
        raise InvalidTariffDocument(path, f"must be a list of rider objects, got {_describe(value)}")
    riders = []
    names: set[str] = set()
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        doc = _object(item, where, required=("name", "kind"), optional=("amount_per_month", "rate", "tax"))
        name = doc["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > RIDER_NAME_MAX_LENGTH:
            raise InvalidTariffDocument(
                f"{where}.name",
                f"must be a non-empty string of at most 100 characters, got {_describe(name)}",
            )
        if name in names:
            raise InvalidTariffDocument(f"{where}.name", f"{name!r} names another rider already")
        names.add(name)
        kind = doc["kind"]
        if kind == "fixed":
            if "amount_per_month" not in doc or "rate" in doc:
                raise InvalidTariffDocument(
                    f"{where}.amount_per_month", "a fixed rider has amount_per_month (and no rate)"
                )
            amount = _decimal(doc["amount_per_month"], f"{where}.amount_per_month", places=2)
            rate = None
        elif kind == "percentage":
            if "rate" not in doc or "amount_per_month" in doc:
                raise InvalidTariffDocument(
                    f"{where}.rate", "a percentage rider has rate (and no amount_per_month)"
                )
            rate = _decimal(doc["rate"], f"{where}.rate")
            if not -1 <= rate <= 1:
                raise InvalidTariffDocument(
                    f"{where}.rate", f"must be a fraction from -1 to 1 (0.02 is 2 %), got {doc['rate']!r}"
                )
            amount = None
        else:
            raise InvalidTariffDocument(
                f"{where}.kind", f"must be 'fixed' or 'percentage', got {_describe(kind)}"
            )
        tax_doc = doc.get("tax", "tariff")
        tax: Tax | Literal["tariff", "exempt"]
        if tax_doc in ("tariff", "exempt"):
            tax = tax_doc
        elif isinstance(tax_doc, dict):
            tax = _tax(tax_doc, f"{where}.tax")
        else:
            raise InvalidTariffDocument(
                f"{where}.tax",
                f"must be 'tariff', 'exempt' or a tax object {{name, rate}}, got {_describe(tax_doc)}",
            )
        riders.append(Rider(name=name, kind=kind, amount_per_month=amount, rate=rate, tax=tax))
    return tuple(riders)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _object(
    value: object, path: str, *, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> dict[str, object]:
    """Check that `value` is an object with only the known keys and all the required ones."""
    if not isinstance(value, dict):
        raise InvalidTariffDocument(path, f"must be an object, got {_describe(value)}")
    allowed = {*required, *optional}
    for key in value:
        if key not in allowed:
            raise InvalidTariffDocument(
                _join(path, str(key)), f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}"
            )
    for key in required:
        if key not in value:
            raise InvalidTariffDocument(_join(path, key), "is required")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: object) -> str:
    """Name a JSON value's type and show it as JSON, for error messages."""
    kinds = {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "object"}
    if value is None:
        return "null"
    shown = json.dumps(value, default=repr)
    return f"{kinds.get(type(value), type(value).__name__)} {shown[:60]}{'…' if len(shown) > 60 else ''}"


def _decimal(
    value: object,
    path: str,
    *,
    places: int = RATE_PLACES,
    non_negative: bool = False,
) -> Decimal:
    """Parse a decimal sent as a string (numbers sent as JSON numbers are refused: floats are inexact)."""
    if not isinstance(value, str):
        raise InvalidTariffDocument(
            path, f'must be a decimal written as a string such as "0.2450", got {_describe(value)}'
        )
    if not _DECIMAL.fullmatch(value):
        raise InvalidTariffDocument(
            path, f'must be a plain decimal such as "0.2450" (no exponent, NaN or Infinity), got {value!r}'
        )
    parsed = Decimal(value)
    if parsed.is_zero():
        parsed = parsed.copy_abs()  # "-0" would otherwise stay a negative zero
    if parsed.copy_abs() >= MAX_ABS_DECIMAL:
        raise InvalidTariffDocument(path, f"is out of range (absolute value below 1e12), got {value!r}")
    if parsed != parsed.quantize(Decimal(1).scaleb(-places)):
        raise InvalidTariffDocument(path, f"has more than {places} decimal places: {value!r}")
    if non_negative and parsed < 0:
        raise InvalidTariffDocument(path, f"must not be negative, got {value!r}")
    return parsed


def _string(value: object, path: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidTariffDocument(path, f"must be {what}, got {_describe(value)}")
    return value


def _energy(value: object, path: str) -> Energy:
    if not isinstance(value, dict):
        raise InvalidTariffDocument(path, f"must be an object, got {_describe(value)}")
    if "kind" not in value:
        raise InvalidTariffDocument(_join(path, "kind"), "is required")
    kind = value["kind"]
    parser = _ENERGY_PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise InvalidTariffDocument(
            _join(path, "kind"), f"must be one of {', '.join(_ENERGY_PARSERS)}, got {_describe(kind)}"
        )
    return parser(value, path)


def _flat(value: dict[str, object], path: str) -> FlatEnergy:
    doc = _object(value, path, required=("kind", "rate_per_kwh"))
    return FlatEnergy(rate_per_kwh=_decimal(doc["rate_per_kwh"], f"{path}.rate_per_kwh"))


def _tiered(value: dict[str, object], path: str) -> TieredEnergy:
    doc = _object(value, path, required=("kind", "tiers"))
    items = doc["tiers"]
    if not isinstance(items, list) or not items:
        raise InvalidTariffDocument(f"{path}.tiers", f"must be a non-empty list, got {_describe(items)}")
    tiers: list[Tier] = []
    for i, item in enumerate(items):
        where = f"{path}.tiers[{i}]"
        tier = _object(item, where, required=("up_to_kwh", "rate_per_kwh"))
        bound = tier["up_to_kwh"]
        up_to = None
        if bound is None:
            if i != len(items) - 1:
                raise InvalidTariffDocument(
                    f"{where}.up_to_kwh", "only the last tier may have no upper bound (null)"
                )
        else:
            up_to = _decimal(bound, f"{where}.up_to_kwh", places=KWH_PLACES)
            previous = tiers[-1].up_to_kwh if tiers else None
            if up_to <= 0:
                raise InvalidTariffDocument(f"{where}.up_to_kwh", f"must be positive, got {bound!r}")
            if previous is not None and up_to <= previous:
                raise InvalidTariffDocument(
                    f"{where}.up_to_kwh",
                    f"must be above the previous bound {previous} (tiers ascend), got {bound!r}",
                )
        tiers.append(
            Tier(up_to_kwh=up_to, rate_per_kwh=_decimal(tier["rate_per_kwh"], f"{where}.rate_per_kwh"))
        )
    return TieredEnergy(tiers=tuple(tiers))


def _tou(value: dict[str, object], path: str) -> TouEnergy:
    doc = _object(
        value, path, required=("kind", "rates_per_kwh", "weekday", "weekend"), optional=("holidays",)
    )
    rates_path = f"{path}.rates_per_kwh"
    rates_doc = doc["rates_per_kwh"]
    if not isinstance(rates_doc, dict) or not rates_doc:
        raise InvalidTariffDocument(rates_path, f"must be a non-empty object, got {_describe(rates_doc)}")
    rates: dict[str, Decimal] = {}
    for name, rate in rates_doc.items():
        if not isinstance(name, str) or not _PERIOD_NAME.fullmatch(name):
            raise InvalidTariffDocument(
                rates_path, f"period names are 1-40 letters, digits, '_' or '-', got {name!r}"
            )
        if name in EVENT_KINDS:
            raise InvalidTariffDocument(
                f"{rates_path}.{name}", f"{name!r} is an event kind and cannot name a period"
            )
        rates[name] = _decimal(rate, f"{rates_path}.{name}")
    weekday = _schedule(doc["weekday"], f"{path}.weekday", rates)
    weekend = _schedule(doc["weekend"], f"{path}.weekend", rates)
    calendar = _holiday_calendar(doc["holidays"], f"{path}.holidays") if "holidays" in doc else None
    return TouEnergy(
        rates_per_kwh=MappingProxyType(rates), weekday=weekday, weekend=weekend, holidays=calendar
    )


def _holiday_calendar(value: object, path: str) -> str:
    """A country code of the holidays package ('GB'), optionally with one of its subdivisions as in
    ISO 3166-2 ('GB-ENG': England's bank holidays, which add Easter Monday and the August bank holiday)."""
    supported = holidays.list_supported_countries()
    text = value if isinstance(value, str) else ""
    country, _, subdivision = text.partition("-")
    if country not in supported:
        raise InvalidTariffDocument(
            path,
            "must be a country code of the holidays package such as 'GB', optionally with a subdivision"
            f" such as 'GB-ENG', got {_describe(value)}",
        )
    if subdivision and subdivision not in supported[country]:
        known = ", ".join(f"{country}-{code}" for code in supported[country]) or "none"
        raise InvalidTariffDocument(
            path, f"{value!r} is not a subdivision of {country} the holidays package knows (known: {known})"
        )
    return text


def _schedule(value: object, path: str, rates: Mapping[str, Decimal]) -> tuple[tuple[str, ...], ...]:
    """A day of 24 or 48 period names, or 12 of them (one per month); normalised to 12 rows."""
    shape = "a list of 24 or 48 period names, or a list of 12 such lists (January to December)"
    if not isinstance(value, list):
        raise InvalidTariffDocument(path, f"must be {shape}, got {_describe(value)}")
    if value and all(isinstance(row, list) for row in value):
        if len(value) != 12:
            raise InvalidTariffDocument(path, f"must be {shape}, got a list of {len(value)} lists")
        return tuple(_day(row, f"{path}[{month}]", rates) for month, row in enumerate(value))
    if len(value) not in (24, 48):
        raise InvalidTariffDocument(path, f"must be {shape}, got a list of {len(value)} items")
    return (_day(value, path, rates),) * 12


def _day(value: list[object], path: str, rates: Mapping[str, Decimal]) -> tuple[str, ...]:
    if len(value) not in (24, 48):
        raise InvalidTariffDocument(path, f"must list 24 or 48 period names, got {len(value)}")
    names = []
    for slot, name in enumerate(value):
        if not isinstance(name, str):
            raise InvalidTariffDocument(f"{path}[{slot}]", f"must be a period name, got {_describe(name)}")
        if name not in rates:
            raise InvalidTariffDocument(
                f"{path}[{slot}]", f"unknown period {name!r}; rates_per_kwh defines {', '.join(rates)}"
            )
        names.append(name)
    return tuple(names)


def _indexed(value: dict[str, object], path: str) -> IndexedEnergy:
    doc = _object(
        value,
        path,
        required=("kind", "market", "multiplier", "adder_per_kwh"),
        optional=("peak_adder", "cap_per_kwh", "floor_per_kwh"),
    )
    market = _string(doc["market"], f"{path}.market", _MARKET, "a market code such as 'DE-LU'")
    multiplier = _decimal(doc["multiplier"], f"{path}.multiplier")
    adder = _decimal(doc["adder_per_kwh"], f"{path}.adder_per_kwh")
    peak = _peak_adder(doc["peak_adder"], f"{path}.peak_adder") if "peak_adder" in doc else None
    cap = _optional_decimal(doc.get("cap_per_kwh"), f"{path}.cap_per_kwh")
    floor = _optional_decimal(doc.get("floor_per_kwh"), f"{path}.floor_per_kwh")
    if cap is not None and floor is not None and floor > cap:
        raise InvalidTariffDocument(f"{path}.floor_per_kwh", f"floor {floor} is above cap {cap}")
    return IndexedEnergy(
        market=market,
        multiplier=multiplier,
        adder_per_kwh=adder,
        peak_adder=peak,
        cap_per_kwh=cap,
        floor_per_kwh=floor,
    )


def _optional_decimal(value: object, path: str) -> Decimal | None:
    return None if value is None else _decimal(value, path)


def _peak_adder(value: object, path: str) -> PeakAdder:
    doc = _object(value, path, required=("from", "to", "per_kwh"))
    start = _clock(doc["from"], f"{path}.from")
    end = _clock(doc["to"], f"{path}.to")
    if start == end:
        raise InvalidTariffDocument(
            f"{path}.to", f"must differ from 'from' ({doc['from']}): the window is empty"
        )
    return PeakAdder(start=start, end=end, per_kwh=_decimal(doc["per_kwh"], f"{path}.per_kwh"))


def _clock(value: object, path: str) -> time:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidTariffDocument(
            path, f"must be a local time 'HH:MM' (00:00 to 23:59), got {_describe(value)}"
        )
    return time(int(match[1]), int(match[2]))


def _dynamic(value: dict[str, object], path: str) -> DynamicEnergy:
    doc = _object(value, path, required=("kind", "market"), optional=("rules",))
    market = _string(doc["market"], f"{path}.market", _MARKET, "a market code such as 'DE-LU'")
    items = doc.get("rules", [])
    if not isinstance(items, list):
        raise InvalidTariffDocument(
            f"{path}.rules", f"must be a list of rule objects, got {_describe(items)}"
        )
    rules = []
    for i, item in enumerate(items):
        where = f"{path}.rules[{i}]"
        if not isinstance(item, dict):
            raise InvalidTariffDocument(where, f"must be an object, got {_describe(item)}")
        kind = item.get("kind")
        if not isinstance(kind, str) or not kind:
            raise InvalidTariffDocument(f"{where}.kind", f"must be a non-empty string, got {_describe(kind)}")
        params = {key: param for key, param in item.items() if key != "kind"}
        rules.append(DynamicRule(kind=kind, params=MappingProxyType(params)))
    return DynamicEnergy(market=market, rules=tuple(rules))


_ENERGY_PARSERS: dict[str, Callable[[dict[str, object], str], Energy]] = {
    "flat": _flat,
    "tiered": _tiered,
    "tou": _tou,
    "indexed": _indexed,
    "dynamic": _dynamic,
}


def _events(value: object, path: str) -> EventRates:
    doc = _object(value, path, optional=EVENT_KINDS)
    rates = {}
    for kind in EVENT_KINDS:
        if kind in doc:
            event = _object(doc[kind], f"{path}.{kind}", required=("rate_per_kwh",))
            rates[f"{kind}_per_kwh"] = _decimal(event["rate_per_kwh"], f"{path}.{kind}.rate_per_kwh")
    return EventRates(**rates)


def _tax(value: object, path: str) -> Tax:
    doc = _object(value, path, required=("name", "rate"))
    name = doc["name"]
    if not isinstance(name, str) or not name.strip():
        raise InvalidTariffDocument(f"{path}.name", f"must be a non-empty string, got {_describe(name)}")
    if len(name) > TAX_NAME_MAX_LENGTH:
        raise InvalidTariffDocument(f"{path}.name", f"must be at most {TAX_NAME_MAX_LENGTH} characters")
    rate = _decimal(doc["rate"], f"{path}.rate", non_negative=True)
    if rate >= 1:
        raise InvalidTariffDocument(f"{path}.rate", f"must be below 1 (a fraction such as 0.05), got {rate}")
    return Tax(name=name, rate=rate)
