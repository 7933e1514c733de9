"""Map an OpenEI Utility Rate Database (URDB) rate item onto a `tariff/v1` document.

Pure Python (no Django). `urdb_to_document` returns the document and a list of warnings naming each part of
the URDB rate that `tariff/v1` cannot express and that was therefore left out or simplified; nothing is
dropped silently. Rules:

- energy: one period and one tier → `flat`; one period with tiers → `tiered` (`max` is the cumulative
  kWh bound in the billing period); several periods → `tou` with the 12×24 weekday/weekend schedules
  (periods named `p1`, `p2`, … after URDB's 0-based indexes + 1). A rate is `rate + adj`, rounded to 6 places.
- fixed charge: `$/day` as is; `$/month` × 12 / 365 per day; `$/year` / 365 per day (6 places, half-up).
- demand: a single flat demand rate applying in every month → `demand.rate_per_kw`; `demandratestructure`
  with its 12×24 schedules → `demand.tou` (periods `d1`, `d2`, …, first tier's `rate + adj`);
  `demandwindow` 15/30/60 → `demand.averaging_minutes`; `lookbackpercent` + `lookbackrange` (every month
  looking back) → `demand.ratchet` (docs/commercial-tariffs.md).
- minimum: `mincharge` in `$/month` → `minimum_charge_per_month` (`$/day` × 365 / 12, rounded to cents).
- time zone: from the US state (`state` in the item, or the one given), else the caller's `timezone`.
"""

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

RATE_PLACES = Decimal("0.000001")
KWH_PLACES = Decimal("0.0001")

# The predominant zone of each state; states split between zones get a warning naming the choice.
STATE_TIMEZONES = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": "America/Chicago",
    "CA": "America/Los_Angeles", "CO": "America/Denver", "CT": "America/New_York", "DE": "America/New_York",
    "DC": "America/New_York", "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York", "LA": "America/Chicago",
    "ME": "America/New_York", "MD": "America/New_York", "MA": "America/New_York", "MI": "America/Detroit",
    "MN": "America/Chicago", "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York", "NJ": "America/New_York",
    "NM": "America/Denver", "NY": "America/New_York", "NC": "America/New_York", "ND": "America/Chicago",
    "OH": "America/New_York", "OK": "America/Chicago", "OR": "America/Los_Angeles",
    "PA": "America/New_York", "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver", "VT": "America/New_York",
    "VA": "America/New_York", "WA": "America/Los_Angeles", "WV": "America/New_York",
    "WI": "America/Chicago", "WY": "America/Denver", "PR": "America/Puerto_Rico",
}  # fmt: skip
SPLIT_STATES = {"FL", "ID", "IN", "KS", "KY", "MI", "NE", "ND", "OR", "SD", "TN", "TX"}

# URDB fields tariff/v1 has no place for: (field, what is lost).
UNSUPPORTED = (
    (
        "coincidentratestructure",
        "coincident demand charges (URDB names no peak intervals; add demand.coincident_peak by hand)",
    ),
    ("demandratchetpercentage", "monthly demand ratchet percentages"),
    ("annualmincharge", "annual minimum charges"),
    ("fueladjustmentsmonthly", "monthly fuel adjustments"),
    ("energyattrs", "energy attributes"),
    ("demandattrs", "demand attributes"),
)


class UrdbError(ValueError):
    """The URDB item cannot be imported at all (e.g. no energy rate structure)."""


@dataclass
class UrdbImport:
    document: dict
    warnings: list[str] = field(default_factory=list)
    name: str = ""
    label: str = ""
    start_epoch: int | None = None
    end_epoch: int | None = None


def urdb_items(data: object) -> list[dict]:
    """The rate items of a URDB JSON file: one item, or `{"items": [...]}`."""
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        items = data["items"]
    elif isinstance(data, dict):
        items = [data]
    else:
        raise UrdbError("expected a URDB rate item or an object with 'items'")
    if not items or not all(isinstance(item, dict) for item in items):
        raise UrdbError("no URDB rate items found")
    return items


def urdb_to_document(item: dict, *, timezone: str | None = None, currency: str = "USD") -> UrdbImport:
    """Map one URDB item onto a `tariff/v1` document; see the module docstring for the rules."""
    warnings: list[str] = []
    document: dict = {
        "format": "tariff/v1",
        "currency": currency,
        "timezone": _zone(item, timezone, warnings),
    }
    standing = _standing_charge(item, warnings)
    if standing is not None:
        document["standing_charge_per_day"] = standing
    document["energy"] = _energy(item, warnings)
    demand: dict = {}
    flat_demand = _flat_demand(item, warnings)
    if flat_demand is not None:
        demand["rate_per_kw"] = flat_demand
    demand.update(_commercial_demand(item, warnings, has_facility=flat_demand is not None))
    if demand and ({"rate_per_kw", "tou"} & set(demand)):
        document["demand"] = demand
    elif demand:
        warnings.append("demandwindow: an averaging window without a demand charge was not imported")
    minimum = _minimum_charge(item, warnings)
    if minimum is not None:
        document["minimum_charge_per_month"] = minimum
    for key, what in UNSUPPORTED:
        if _present(item.get(key)):
            warnings.append(f"{key}: {what} cannot be expressed in tariff/v1 and were not imported")
    return UrdbImport(
        document=document,
        warnings=warnings,
        name=str(item.get("name") or item.get("label") or "URDB rate"),
        label=str(item.get("label") or ""),
        start_epoch=item.get("startdate"),
        end_epoch=item.get("enddate"),
    )


def _present(value: object) -> bool:
    if value in (None, "", 0, [], {}):
        return False
    return not (isinstance(value, float) and value == 0)


def _zone(item: dict, timezone: str | None, warnings: list[str]) -> str:
    state = str(item.get("state") or "").upper()
    if timezone:
        return timezone
    if state in STATE_TIMEZONES:
        if state in SPLIT_STATES:
            warnings.append(
                f"timezone: {state} spans several time zones; used {STATE_TIMEZONES[state]} (use --timezone)"
            )
        return STATE_TIMEZONES[state]
    raise UrdbError("the item names no US state; give the tariff's time zone (--timezone)")


def _decimal(value: object, where: str, places: Decimal = RATE_PLACES) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise UrdbError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UrdbError(f"{where}: not a finite number")
    number = (
        value
        if isinstance(value, Decimal)
        else Decimal(repr(value) if isinstance(value, float) else str(value))
    )
    if not number.is_finite():
        raise UrdbError(f"{where}: not a finite number")
    return number.quantize(places, rounding=ROUND_HALF_UP)


def _number(value: object, where: str) -> Decimal:
    """A URDB number exactly as written (floats by their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UrdbError(f"{where}: expected a finite number, got {value!r}")
    return Decimal(repr(value))


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _rate(tier: dict, where: str, warnings: list[str], *, unit: str = "kWh") -> str:
    exact = _number(tier.get("rate", 0), where) + _number(tier.get("adj", 0) or 0, f"{where}.adj")
    rounded = _decimal(exact, where)
    if rounded != exact:
        warnings.append(f"{where}: rate + adj = {exact} rounded to {rounded} (6 decimal places)")
    if _present(tier.get("sell")):
        warnings.append(
            f"{where}: sell rate {tier['sell']} (export credit) cannot be expressed and was not imported"
        )
    if tier.get("unit", unit) not in (unit, None):
        warnings.append(
            f"{where}: unit {tier['unit']!r} is not per {unit} in the billing period; imported as per {unit}"
        )
    return _text(rounded)


def _standing_charge(item: dict, warnings: list[str]) -> str | None:
    charge = item.get("fixedchargefirstmeter")
    if not _present(charge):
        return None
    units = item.get("fixedchargeunits", "$/month")
    amount = _number(charge, "fixedchargefirstmeter")
    if units == "$/day":
        per_day = amount
    elif units == "$/month":
        per_day = amount * 12 / 365  # a month is 365/12 days on average
    elif units == "$/year":
        per_day = amount / 365
    else:
        warnings.append(f"fixedchargeunits: {units!r} is not understood; fixed charge not imported")
        return None
    if _present(item.get("fixedchargeeaaddl")):
        warnings.append("fixedchargeeaaddl: charges for additional meters cannot be expressed")
    return _text(per_day.quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def _energy(item: dict, warnings: list[str]) -> dict:
    structure = item.get("energyratestructure")
    if (
        not isinstance(structure, list)
        or not structure
        or not all(isinstance(p, list) and p for p in structure)
    ):
        raise UrdbError("energyratestructure: a list of periods, each a non-empty list of tiers, is required")
    names = [f"p{i + 1}" for i in range(len(structure))]
    if len(structure) == 1:
        tiers = structure[0]
        if len(tiers) == 1:
            return {"kind": "flat", "rate_per_kwh": _rate(tiers[0], "energyratestructure[0][0]", warnings)}
        return {"kind": "tiered", "tiers": _tiers(tiers, warnings)}
    rates = {}
    for i, tiers in enumerate(structure):
        rates[names[i]] = _rate(tiers[0], f"energyratestructure[{i}][0]", warnings)
        for j, tier in enumerate(tiers[1:], start=1):
            if _present(tier.get("sell")):
                warnings.append(
                    f"energyratestructure[{i}][{j}]: sell rate {tier['sell']} cannot be expressed"
                )
        if len(tiers) > 1:
            warnings.append(
                f"energyratestructure[{i}]: {len(tiers)} tiers within a time-of-use period cannot be"
                f" expressed (TOU × tiers); imported the first tier's rate {rates[names[i]]}"
                " for all consumption"
            )
    return {
        "kind": "tou",
        "rates_per_kwh": rates,
        "weekday": _schedule(item, "energyweekdayschedule", names),
        "weekend": _schedule(item, "energyweekendschedule", names),
    }


def _tiers(tiers: list[dict], warnings: list[str]) -> list[dict]:
    result = []
    for j, tier in enumerate(tiers):
        where = f"energyratestructure[0][{j}]"
        last = j == len(tiers) - 1
        bound = tier.get("max")
        if last and bound is not None:
            warnings.append(f"{where}: max {bound} on the last tier ignored (consumption beyond stays in it)")
        if not last and bound is None:
            raise UrdbError(f"{where}: only the last tier may have no max")
        up_to = None if last else _text(_decimal(bound, f"{where}.max", KWH_PLACES))
        result.append({"up_to_kwh": up_to, "rate_per_kwh": _rate(tier, where, warnings)})
    return result


def _schedule(item: dict, key: str, names: list[str]) -> list[list[str]]:
    months = item.get(key)
    if (
        not isinstance(months, list)
        or len(months) != 12
        or not all(isinstance(m, list) and len(m) == 24 for m in months)
    ):
        raise UrdbError(f"{key}: 12 months × 24 hours of period indexes are required with several periods")
    try:
        return [[names[int(period)] for period in month] for month in months]
    except (IndexError, ValueError, TypeError) as exc:
        structure = "demandratestructure" if key.startswith("demand") else "energyratestructure"
        raise UrdbError(f"{key}: a period index is not in {structure}") from exc


def _flat_demand(item: dict, warnings: list[str]) -> str | None:
    structure = item.get("flatdemandstructure")
    if not _present(structure):
        return None
    months = item.get("flatdemandmonths") or [0] * 12
    used = sorted({int(m) for m in months})
    if len(structure) != 1 or len(structure[0]) != 1 or used != [0]:
        warnings.append(
            "flatdemandstructure: seasonal or tiered flat demand charges cannot be expressed"
            " (tariff/v1 has one demand rate); not imported"
        )
        return None
    return _rate(structure[0][0], "flatdemandstructure[0][0]", warnings, unit="kW")


def _commercial_demand(item: dict, warnings: list[str], *, has_facility: bool) -> dict:
    """Time-of-use demand, the averaging window and the look-back ratchet."""
    demand: dict = {}
    structure = item.get("demandratestructure")
    if _present(structure):
        if not isinstance(structure, list) or not all(isinstance(p, list) and p for p in structure):
            raise UrdbError(
                "demandratestructure: a list of periods, each a non-empty list of tiers, is required"
            )
        names = [f"d{i + 1}" for i in range(len(structure))]
        rates = {}
        for i, tiers in enumerate(structure):
            rates[names[i]] = _rate(tiers[0], f"demandratestructure[{i}][0]", warnings, unit="kW")
            if len(tiers) > 1:
                warnings.append(
                    f"demandratestructure[{i}]: {len(tiers)} demand tiers cannot be expressed; imported the"
                    f" first tier's rate {rates[names[i]]}"
                )
        demand["tou"] = {
            "rates_per_kw": rates,
            "weekday": _schedule(item, "demandweekdayschedule", names),
            "weekend": _schedule(item, "demandweekendschedule", names),
        }
    window = item.get("demandwindow")
    if _present(window):
        if window in (15, 30, 60):
            demand["averaging_minutes"] = int(window)
        else:
            warnings.append(f"demandwindow: {window} minutes is not 15, 30 or 60; not imported")
    percent, months = item.get("lookbackpercent"), item.get("lookbackrange")
    if _present(percent):
        lookback_months = item.get("lookbackmonths")
        if not has_facility:
            warnings.append("lookbackpercent: a ratchet needs a flat demand charge to apply to; not imported")
        elif not isinstance(months, int) or not 1 <= months <= 36:
            warnings.append(f"lookbackrange: {months!r} is not 1-36 months; the ratchet was not imported")
        elif isinstance(lookback_months, list) and lookback_months and not all(lookback_months):
            warnings.append("lookbackmonths: ratchets looking back at some months only cannot be expressed")
        else:
            share = _number(percent, "lookbackpercent") * 100
            demand["ratchet"] = {
                "percent": _text(share.quantize(KWH_PLACES, ROUND_HALF_UP)),
                "months": months,
            }
    return demand


def _minimum_charge(item: dict, warnings: list[str]) -> str | None:
    charge = item.get("mincharge")
    if not _present(charge):
        return None
    units = item.get("minchargeunits", "$/month")
    amount = _number(charge, "mincharge")
    if units == "$/month":
        per_month = amount
    elif units == "$/day":
        per_month = amount * 365 / 12
    else:
        warnings.append(f"minchargeunits: {units!r} is not understood; minimum charge not imported")
        return None
    rounded = per_month.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if rounded != per_month:
        warnings.append(f"mincharge: {per_month} {units} per month rounded to {rounded}")
    return _text(rounded)
