"""The dynamic pricing engine (docs/dynamic-pricing.md): rules that price each interval of a local day.

A `dynamic` tariff document lists rules (`energy.rules`); `rules_parse` validates their parameters and
`day_price` applies them in order to every half-hour of the local day. Each rule adds to (or scales) the
running price, and the breakdown records what each rule contributed, so a customer or a regulator can see
why a price is what it is.

Money is `Decimal` throughout. Each rule's contribution is quantized to 6 decimal places (ROUND_HALF_UP)
when it is applied: that is the named rounding point, so the running price is always on 6 places, the final
rate is exactly the sum of the breakdown, and quantizing it again (as the contract says) changes nothing.
Pure Python: no Django.
"""

import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pricing.documents import DynamicRule

RATE_QUANTUM = Decimal("0.000001")
HALF_HOUR = timedelta(minutes=30)
MAX_ABS = Decimal("1e9")

_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


class InvalidRule(Exception):
    """A rule of `energy.rules` is unknown or has a bad parameter; `field` is its full path."""

    code = "invalid_dynamic_rule"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class MissingMarketPrice(Exception):
    """No market interval contains the start of an interval to price."""

    code = "missing_market_price"

    def __init__(self, start: datetime) -> None:
        super().__init__(f"no market price covers the interval starting {iso_utc(start)}")
        self.start = start


# --- rules ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketRule:
    """price_per_mwh / 1000 × multiplier + adder_per_kwh."""

    multiplier: Decimal = Decimal(1)
    adder_per_kwh: Decimal = Decimal(0)
    kind: str = "market"


@dataclass(frozen=True)
class DemandRule:
    """per_kwh_at_full × max(0, load/capacity − threshold) / (1 − threshold)."""

    region: str
    capacity_kwh: Decimal
    threshold: Decimal
    per_kwh_at_full: Decimal
    kind: str = "demand"


@dataclass(frozen=True)
class TouRule:
    """Scale the running price by `multiplier` when the local start time is in [start, end) (wraps)."""

    start: time
    end: time
    multiplier: Decimal
    kind: str = "tou"

    def covers(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class WeatherRule:
    """per_kwh_per_degree × the deviation of the temperature from normal_c, on the chosen side."""

    normal_c: Decimal
    per_kwh_per_degree: Decimal
    applies: str = "below"  # "below" (heating-driven demand), "above" (cooling) or "both"
    location: str = ""  # weather location code; "" = the one mapped to the tariff's demand region
    kind: str = "weather"

    def deviation(self, temperature_c: Decimal) -> Decimal:
        below = max(Decimal(0), self.normal_c - temperature_c)
        above = max(Decimal(0), temperature_c - self.normal_c)
        return {"below": below, "above": above, "both": below + above}[self.applies]


@dataclass(frozen=True)
class CapRule:
    per_kwh: Decimal
    kind: str = "cap"


@dataclass(frozen=True)
class FloorRule:
    per_kwh: Decimal
    kind: str = "floor"


Rule = MarketRule | DemandRule | TouRule | WeatherRule | CapRule | FloorRule


def rules_parse(rules: Sequence[DynamicRule], *, path: str = "document.energy.rules") -> tuple[Rule, ...]:
    """Validate the rules of a dynamic document; raise `InvalidRule` naming `path[i].<param>`."""
    if not rules:
        raise InvalidRule(path, "must hold at least one rule (e.g. {'kind': 'market'})")
    parsed = []
    for i, rule in enumerate(rules):
        where = f"{path}[{i}]"
        parser = _PARSERS.get(rule.kind)
        if parser is None:
            raise InvalidRule(
                f"{where}.kind", f"unknown rule kind {rule.kind!r}; known: {', '.join(_PARSERS)}"
            )
        params = dict(rule.params)
        allowed, required = _PARAMS[rule.kind]
        for key in params:
            if key not in allowed:
                raise InvalidRule(
                    f"{where}.{key}",
                    f"unknown parameter {key!r} of a {rule.kind!r} rule; "
                    f"allowed: {', '.join(sorted(allowed))}",
                )
        for key in required:
            if key not in params:
                raise InvalidRule(f"{where}.{key}", f"is required by a {rule.kind!r} rule")
        parsed.append(parser(params, where))
    return tuple(parsed)


_PARAMS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "market": (frozenset({"multiplier", "adder_per_kwh"}), ()),
    "demand": (
        frozenset({"region", "capacity_kwh", "threshold", "per_kwh_at_full"}),
        ("region", "capacity_kwh", "threshold", "per_kwh_at_full"),
    ),
    "tou": (frozenset({"from", "to", "multiplier"}), ("from", "to", "multiplier")),
    "weather": (
        frozenset({"normal_c", "per_kwh_per_degree", "applies", "location"}),
        ("normal_c", "per_kwh_per_degree"),
    ),
    "cap": (frozenset({"per_kwh"}), ("per_kwh",)),
    "floor": (frozenset({"per_kwh"}), ("per_kwh",)),
}


def _decimal(
    params: dict[str, Any], key: str, where: str, *, default: str | None = None, places: int = 6
) -> Decimal:
    value = params.get(key, default)
    path = f"{where}.{key}"
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise InvalidRule(path, f'must be a plain decimal written as a string such as "1.25", got {value!r}')
    parsed = Decimal(value)
    if parsed.is_zero():
        parsed = parsed.copy_abs()
    if parsed.copy_abs() >= MAX_ABS:
        raise InvalidRule(path, f"is out of range (absolute value below 1e9), got {value!r}")
    if parsed != parsed.quantize(Decimal(1).scaleb(-places)):
        raise InvalidRule(path, f"has more than {places} decimal places: {value!r}")
    return parsed


def _clock(params: dict[str, Any], key: str, where: str) -> time:
    value = params[key]
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidRule(f"{where}.{key}", f"must be a local time 'HH:MM' (00:00 to 23:59), got {value!r}")
    return time(int(match[1]), int(match[2]))


def _market(params: dict[str, Any], where: str) -> MarketRule:
    return MarketRule(
        multiplier=_decimal(params, "multiplier", where, default="1"),
        adder_per_kwh=_decimal(params, "adder_per_kwh", where, default="0"),
    )


def _demand(params: dict[str, Any], where: str) -> DemandRule:
    region = params["region"]
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise InvalidRule(f"{where}.region", f"must be a region code such as 'north', got {region!r}")
    capacity = _decimal(params, "capacity_kwh", where, places=4)
    if capacity <= 0:
        raise InvalidRule(f"{where}.capacity_kwh", f"must be positive, got {params['capacity_kwh']!r}")
    threshold = _decimal(params, "threshold", where)
    if not Decimal(0) <= threshold < Decimal(1):
        raise InvalidRule(f"{where}.threshold", f"must be in [0, 1), got {params['threshold']!r}")
    return DemandRule(
        region=region,
        capacity_kwh=capacity,
        threshold=threshold,
        per_kwh_at_full=_decimal(params, "per_kwh_at_full", where),
    )


def _tou(params: dict[str, Any], where: str) -> TouRule:
    start, end = _clock(params, "from", where), _clock(params, "to", where)
    if start == end:
        raise InvalidRule(f"{where}.to", f"must differ from 'from' ({params['from']}): the window is empty")
    multiplier = _decimal(params, "multiplier", where)
    if multiplier < 0:
        raise InvalidRule(f"{where}.multiplier", f"must not be negative, got {params['multiplier']!r}")
    return TouRule(start=start, end=end, multiplier=multiplier)


def _weather(params: dict[str, Any], where: str) -> WeatherRule:
    applies = params.get("applies", "below")
    if applies not in ("below", "above", "both"):
        raise InvalidRule(f"{where}.applies", f"must be 'below', 'above' or 'both', got {applies!r}")
    location = params.get("location", "")
    if not isinstance(location, str) or (location and not _REGION.fullmatch(location)):
        raise InvalidRule(
            f"{where}.location", f"must be a weather location code such as 'london', got {location!r}"
        )
    return WeatherRule(
        normal_c=_decimal(params, "normal_c", where, places=2),
        per_kwh_per_degree=_decimal(params, "per_kwh_per_degree", where),
        applies=applies,
        location=location,
    )


def _cap(params: dict[str, Any], where: str) -> CapRule:
    return CapRule(per_kwh=_decimal(params, "per_kwh", where))


def _floor(params: dict[str, Any], where: str) -> FloorRule:
    return FloorRule(per_kwh=_decimal(params, "per_kwh", where))


_PARSERS: dict[str, Callable[[dict[str, Any], str], Rule]] = {
    "market": _market,
    "demand": _demand,
    "tou": _tou,
    "weather": _weather,
    "cap": _cap,
    "floor": _floor,
}


def rules_check_order(rules: Sequence[Rule], *, path: str = "document.energy.rules") -> None:
    """Refuse a cap below a floor that precedes it or vice versa (the later clamp would undo the earlier)."""
    caps = [(i, r.per_kwh) for i, r in enumerate(rules) if isinstance(r, CapRule)]
    floors = [(i, r.per_kwh) for i, r in enumerate(rules) if isinstance(r, FloorRule)]
    for i, cap in caps:
        for j, floor in floors:
            if floor > cap:
                later = max(i, j)
                raise InvalidRule(f"{path}[{later}].per_kwh", f"floor {floor} is above cap {cap}")


# --- inputs and outputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketInterval:
    """One market price over [start, end) in UTC."""

    start: datetime
    end: datetime
    price_per_mwh: Decimal


@dataclass(frozen=True)
class Load:
    """A region's load for one interval and where it comes from ("forecast", "7-day average of 5 days")."""

    kwh: Decimal
    source: str


@dataclass(frozen=True)
class Step:
    """What one rule contributed to an interval's price."""

    rule: str
    per_kwh: Decimal
    note: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "per_kwh": decimal_str(self.per_kwh), "note": self.note}


@dataclass(frozen=True)
class PricedInterval:
    start: datetime
    end: datetime
    rate_per_kwh: Decimal
    steps: tuple[Step, ...]

    def breakdown(self) -> list[dict[str, str]]:
        return [step.as_json() for step in self.steps]


def decimal_str(value: Decimal) -> str:
    """`value` on 6 decimal places, never a negative zero."""
    quantized = value.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)
    if quantized.is_zero():
        quantized = quantized.copy_abs()
    return str(quantized)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _q(value: Decimal) -> Decimal:
    quantized = value.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)
    return quantized.copy_abs() if quantized.is_zero() else quantized


# --- the day ------------------------------------------------------------------------------------------


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of the local midnights that start and end `day` in `zone`."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def day_intervals(day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The half-hours of the local day `day` in UTC: 48, or 46/50 on DST change days."""
    start, end = day_bounds(day, zone)
    intervals = []
    while start < end:
        intervals.append((start, start + HALF_HOUR))
        start += HALF_HOUR
    return intervals


def local_slot(moment: datetime, zone: ZoneInfo) -> tuple[int, int]:
    local = moment.astimezone(zone)
    return local.hour, local.minute


# --- pricing ------------------------------------------------------------------------------------------


def day_price(
    rules: Sequence[Rule],
    intervals: Sequence[tuple[datetime, datetime]],
    *,
    zone: ZoneInfo,
    market: Sequence[MarketInterval] = (),
    loads: Mapping[str, Callable[[datetime], Load | None]] | None = None,
    temperatures: Mapping[datetime, Decimal] | None = None,
) -> list[PricedInterval]:
    """Price each interval by applying `rules` in order.

    `market` is sorted by start and non-overlapping (the interval containing each interval's start is
    used); `loads` maps a region to a lookup of its load at an interval start; `temperatures` maps an
    interval start (or the start of its UTC hour) to °C.
    """
    market_at = _market_lookup(market)
    loads = loads or {}
    temperatures = temperatures or {}
    priced = []
    for start, end in intervals:
        price = Decimal(0)
        steps = []
        for rule in rules:
            step = _apply(rule, price, start, zone, market_at, loads, temperatures)
            price += step.per_kwh
            steps.append(step)
        priced.append(PricedInterval(start, end, _q(price), tuple(steps)))
    return priced


def _apply(
    rule: Rule,
    price: Decimal,
    start: datetime,
    zone: ZoneInfo,
    market_at: Callable[[datetime], MarketInterval],
    loads: Mapping[str, Callable[[datetime], Load | None]],
    temperatures: Mapping[datetime, Decimal],
) -> Step:
    if isinstance(rule, MarketRule):
        interval = market_at(start)
        per_kwh = _q(interval.price_per_mwh / 1000 * rule.multiplier + rule.adder_per_kwh)
        note = f"{interval.price_per_mwh} /MWh × {rule.multiplier} + {rule.adder_per_kwh}"
        return Step("market", per_kwh, note)
    if isinstance(rule, DemandRule):
        lookup = loads.get(rule.region)
        load = lookup(start) if lookup is not None else None
        if load is None:
            return Step("demand", Decimal("0.000000"), f"no load data for region {rule.region}")
        excess = max(Decimal(0), load.kwh / rule.capacity_kwh - rule.threshold)
        per_kwh = _q(rule.per_kwh_at_full * excess / (1 - rule.threshold))
        return Step("demand", per_kwh, f"load {load.kwh} of {rule.capacity_kwh} kWh ({load.source})")
    if isinstance(rule, TouRule):
        window = f"{rule.start:%H:%M}–{rule.end:%H:%M}"
        local = start.astimezone(zone).time()
        if not rule.covers(local):
            return Step("tou", Decimal("0.000000"), f"outside {window}")
        return Step("tou", _q(price * (rule.multiplier - 1)), f"× {rule.multiplier} in {window}")
    if isinstance(rule, WeatherRule):
        temperature = _temperature_at(temperatures, start)
        if temperature is None:
            return Step("weather", Decimal("0.000000"), "no temperature data")
        deviation = rule.deviation(temperature)
        per_kwh = _q(rule.per_kwh_per_degree * deviation)
        return Step("weather", per_kwh, f"{temperature} °C vs normal {rule.normal_c} °C ({rule.applies})")
    if isinstance(rule, CapRule):
        if price > rule.per_kwh:
            return Step("cap", rule.per_kwh - price, f"capped at {rule.per_kwh}")
        return Step("cap", Decimal("0.000000"), f"below cap {rule.per_kwh}")
    if isinstance(rule, FloorRule):
        if price < rule.per_kwh:
            return Step("floor", rule.per_kwh - price, f"raised to floor {rule.per_kwh}")
        return Step("floor", Decimal("0.000000"), f"above floor {rule.per_kwh}")
    raise TypeError(f"unknown rule {rule!r}")


def _market_lookup(market: Sequence[MarketInterval]) -> Callable[[datetime], MarketInterval]:
    starts = [m.start for m in market]

    def at(moment: datetime) -> MarketInterval:
        i = bisect_right(starts, moment) - 1
        if i < 0 or not market[i].start <= moment < market[i].end:
            raise MissingMarketPrice(moment)
        return market[i]

    return at


def _temperature_at(temperatures: Mapping[datetime, Decimal], start: datetime) -> Decimal | None:
    value = temperatures.get(start)
    if value is None:
        value = temperatures.get(start.replace(minute=0, second=0, microsecond=0))
    if value is None:
        return None
    if isinstance(value, float):
        value = Decimal(str(value))
    return Decimal(value)
