"""The bill arithmetic of docs/tariff-format.md: invoice lines, tax and totals of one account for one period.

Pure Python with numpy, no Django, so it can be tested and benchmarked on its own. Representation as in
`pricing.engine`: interval starts are `datetime64[s]` UTC instants, energy is `int64` in 0.0001 kWh, rates
are `int64` micro-units per kWh, and sums of `kwh × rate` are exact integers in 1e-10 of the currency.
Rounding happens once per line (ROUND_HALF_UP to the currency's minor unit, `billing.currencies`) and
once per tax; every amount is a `Decimal` with the currency's exponent (GBP -2, JPY 0, KWD -3).
Intervals are grouped per (version, charge, band) with `np.unique` and summed with
`np.add.reduceat` on exact integers: no Decimal work per interval.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from billing import commercial
from billing.bill_data import AgreementInput, Bill, BillHeld, Line, MeterSeries, PricedVersion, TaxCharge
from billing.currencies import money_round, money_round_e10
from pricing import engine as rates
from pricing.documents import EVENT_KINDS, TariffDocument, TieredEnergy

KWH_PLACES = Decimal("0.0001")
MICRO = Decimal("0.000001")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64_MAX = np.iinfo(np.int64).max
_MAX_GAPS_NAMED = 3

IMPORT = "IMPORT"
EXPORT = "EXPORT"

# InvoiceLine.Kind values (billing.models), repeated here to keep this module free of Django.
ENERGY = "ENERGY"
STANDING_CHARGE = "STANDING_CHARGE"
DEMAND = "DEMAND"
EVENT = "EVENT"
EXPORT_CREDIT = "EXPORT_CREDIT"
MINIMUM_CHARGE = "MINIMUM_CHARGE"
AGREEMENT_MINIMUM_BAND = "agreement minimum"


def bill_compute(*, agreements: Sequence[AgreementInput], period_start: date, period_end: date) -> Bill:
    """The bill of an account for the local dates `[period_start, period_end)`; raise `BillHeld`."""
    if period_end <= period_start:
        raise ValueError("the billing period must end after it starts")
    lines: list[Line] = []
    version_tax: dict[int, tuple[str, Decimal] | None] = {}
    currencies: set[str] = set()
    for agreement in agreements:
        for versions in (agreement.import_versions, agreement.export_versions):
            for version in versions:
                document_tax = version.document.tax
                version_tax[version.version_id] = (
                    (document_tax.name, document_tax.rate) if document_tax else None
                )
        lines += _agreement_lines(agreement, period_start, period_end, currencies)
    if len(currencies) > 1:
        raise BillHeld(
            f"the account's tariffs charge in several currencies ({', '.join(sorted(currencies))})"
        )
    currency = next(iter(currencies), "")
    zero = money_round(Decimal(0), currency)
    net = sum((line.amount for line in lines), zero)
    taxes = _taxes(lines, version_tax, currency)
    tax = sum((charge.amount for charge in taxes), zero)
    return Bill(
        currency=currency,
        lines=lines,
        taxes=taxes,
        net=net,
        tax=tax,
        total=net + tax,
        versions_tax=version_tax,
    )


def _taxes(
    lines: list[Line], version_tax: dict[int, tuple[str, Decimal] | None], currency: str
) -> list[TaxCharge]:
    """One charge per distinct (name, rate): ROUND_HALF_UP(Σ amounts of its versions' lines × rate) to the
    currency's minor unit."""
    bases: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        key = line.own_tax or (None if line.tax_exempt else version_tax.get(line.version_id))
        if key is not None:
            bases[key] = bases.get(key, Decimal(0)) + line.amount
    return [
        TaxCharge(
            name=name,
            rate=rate,
            base=money_round(base, currency),
            amount=money_round(base * rate, currency),
        )
        for (name, rate), base in sorted(bases.items())
    ]


def _agreement_lines(
    agreement: AgreementInput, period_start: date, period_end: date, currencies: set[str]
) -> list[Line]:
    if not agreement.import_versions:
        raise BillHeld(f"{_label(agreement)}no version of the import tariff covers the period")
    zone = agreement.import_versions[0].document.zone
    window_from = max(_local_midnight(period_start, zone), agreement.valid_from)
    window_to = _local_midnight(period_end, zone)
    if agreement.valid_to is not None:
        window_to = min(window_to, agreement.valid_to)
    if window_to <= window_from:
        return []
    lines: list[Line] = []
    directions = [(IMPORT, agreement.import_versions, 1)]
    if agreement.export_versions:
        directions.append((EXPORT, agreement.export_versions, -1))
    for direction, versions, sign in directions:
        versions = sorted(versions, key=lambda v: v.valid_from)
        currencies.update(v.document.currency for v in versions if _overlaps(v, window_from, window_to))
        meters = [m for m in agreement.meters if m.direction == direction]
        if not meters:
            raise BillHeld(f"{_label(agreement)}no {direction.lower()} meter at the meter point")
        starts, kwh_e4, estimated, seconds = _complete_readings(agreement, meters, window_from, window_to)
        direction_lines = _energy_lines(agreement, versions, starts, kwh_e4, estimated, sign, direction)
        direction_lines += _standing_lines(agreement, versions, period_start, period_end, zone, sign)
        try:
            if any(_is_commercial(v.document) for v in versions):
                direction_lines += commercial.demand_lines(
                    agreement=agreement,
                    versions=versions,
                    version_index=_version_index(versions, starts),
                    starts=starts,
                    kwh_e4=kwh_e4,
                    estimated=estimated,
                    seconds=seconds,
                    sign=sign,
                    history=_history(versions, meters, period_start, zone, window_from),
                )
                direction_lines += _monthly_lines(
                    agreement, versions, direction_lines, period_start, period_end, zone, direction
                )
            else:
                direction_lines += _demand_lines(versions, starts, kwh_e4, estimated, seconds, sign)
        except commercial.CommercialHeld as exc:
            raise BillHeld(f"{_label(agreement)}{exc}") from exc
        lines += direction_lines
    if agreement.minimum_charge_per_month is not None:
        lines += _agreement_minimum_lines(
            agreement, lines, period_start, period_end, zone, window_from, window_to
        )
    return lines


def _agreement_minimum_lines(
    agreement: AgreementInput,
    lines: list[Line],
    period_start: date,
    period_end: date,
    zone: ZoneInfo,
    window_from: datetime,
    window_to: datetime,
) -> list[Line]:
    """The agreement's minimum charge top-up: if all its lines (import, export, every version, before tax)
    sum to less than `minimum = ROUND_HALF_UP(minimum_charge_per_month × months)`, one MINIMUM_CHARGE line
    (band "agreement minimum") adds the difference. `months` = Σ over the agreement's local days in the
    period of 1 / (days in that day's month), as for tariff minimums (a whole calendar month is 1). The line
    is taxed like the import version in force on the agreement's first day in the period."""
    assert agreement.minimum_charge_per_month is not None
    midnights = _midnights(period_start, period_end, zone)
    charged = midnights[(midnights >= _instant(window_from)) & (midnights < _instant(window_to))]
    if not len(charged):
        return []
    first = (_EPOCH + timedelta(seconds=int(charged[0].astype(np.int64)))).replace(tzinfo=UTC)
    version = next(
        (
            v
            for v in sorted(agreement.import_versions, key=lambda v: v.valid_from)
            if _overlaps(v, first, window_to)
        ),
        agreement.import_versions[0],
    )
    currency = version.document.currency
    exact = Fraction(agreement.minimum_charge_per_month) * commercial.month_fraction(charged, zone)
    minimum = money_round(Decimal(exact.numerator) / Decimal(exact.denominator), currency)
    base = sum((line.amount for line in lines), Decimal(0))
    if base >= minimum:
        return []
    return [
        Line(
            kind=MINIMUM_CHARGE,
            band=AGREEMENT_MINIMUM_BAND,
            description=f"Agreement minimum charge top-up (minimum {minimum} for {len(charged)} days)",
            quantity=Decimal(len(charged)).quantize(KWH_PLACES),
            unit="day",
            unit_price=None,
            amount=money_round(minimum - base, currency),
            version_id=version.version_id,
        )
    ]


def _is_commercial(document: TariffDocument) -> bool:
    return bool(
        document.demand_averaging_minutes
        or document.demand_tou
        or document.demand_ratchet
        or document.coincident_peak
        or document.minimum_charge_per_month is not None
        or document.riders
    )


def _history(
    versions: Sequence[PricedVersion],
    meters: Sequence[MeterSeries],
    period_start: date,
    zone: ZoneInfo,
    window_from: datetime,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The readings of the months a ratchet looks back over, before the period (as loaded by the caller)."""
    months = max((v.document.demand_ratchet.months for v in versions if v.document.demand_ratchet), default=0)
    if not months:
        return None
    first = _instant(_local_midnight(commercial.months_before(period_start, months), zone))
    last = _instant(min(window_from, _local_midnight(period_start, zone)))
    parts = []
    for meter in meters:
        inside = (meter.starts >= first) & (meter.starts < last)
        parts.append(
            (meter.starts[inside], meter.kwh_e4[inside], np.full(int(inside.sum()), meter.interval_seconds))
        )
    if not parts:
        return None
    starts, kwh, seconds = (np.concatenate(column) for column in zip(*parts, strict=True))
    return starts, kwh.astype(np.int64), seconds.astype(np.int64)


def _monthly_lines(
    agreement: AgreementInput,
    versions: Sequence[PricedVersion],
    direction_lines: list[Line],
    period_start: date,
    period_end: date,
    zone: ZoneInfo,
    direction: str,
) -> list[Line]:
    """Minimum charges and riders per version, on the days its standing charge counts."""
    midnights = _midnights(period_start, period_end, zone)
    in_agreement = midnights >= _instant(agreement.valid_from)
    if agreement.valid_to is not None:
        in_agreement &= midnights < _instant(agreement.valid_to)
    lines: list[Line] = []
    for version in versions:
        document = version.document
        if document.minimum_charge_per_month is None and not document.riders:
            continue
        if direction == EXPORT:
            raise BillHeld(
                f"{_label(agreement)}version {version.version_id}: minimum charges and riders apply to "
                "import tariffs only"
            )
        inside = in_agreement & (midnights >= _instant(version.valid_from))
        if version.valid_to is not None:
            inside &= midnights < _instant(version.valid_to)
        lines += commercial.monthly_lines(
            version=version,
            charged_midnights=midnights[inside],
            zone=zone,
            version_lines=[line for line in direction_lines if line.version_id == version.version_id],
            currency=document.currency,
        )
    return lines


def _label(agreement: AgreementInput) -> str:
    return f"{agreement.label}: " if agreement.label else ""


def _overlaps(version: PricedVersion, start: datetime, end: datetime) -> bool:
    return version.valid_from < end and (version.valid_to is None or start < version.valid_to)


@lru_cache(maxsize=4096)
def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of local midnight starting `day` in `zone` (the first instant of the day)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _instant(moment: datetime) -> np.datetime64:
    return np.datetime64((moment - _EPOCH) // timedelta(seconds=1), "s")


def _iso(seconds: np.datetime64) -> str:
    return (_EPOCH + timedelta(seconds=int(seconds.astype(np.int64)))).strftime("%Y-%m-%dT%H:%MZ")


# A comparison bills one account's agreements under several tariffs: the meters (and so their checked,
# ordered readings) are the same objects each time. The last few results are kept by the meters' identity
# and the window, so a meter's readings are checked and ordered once for all the tariffs.
_Readings = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_READINGS_CACHE: dict[
    tuple[tuple[int, ...], datetime, datetime], tuple[tuple[MeterSeries, ...], _Readings]
] = {}
_READINGS_CACHE_SIZE = 16


def _complete_readings(
    agreement: AgreementInput, meters: Sequence[MeterSeries], window_from: datetime, window_to: datetime
) -> _Readings:
    """`_checked_readings`, kept for the last few (meters, window): the arrays are shared, never written."""
    key = (tuple(id(m) for m in meters), window_from, window_to)
    hit = _READINGS_CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], meters, strict=True)):
        return hit[1]
    readings = _checked_readings(agreement, meters, window_from, window_to)
    for array in readings:
        array.flags.writeable = False
    if len(_READINGS_CACHE) >= _READINGS_CACHE_SIZE:
        _READINGS_CACHE.pop(next(iter(_READINGS_CACHE)))
    _READINGS_CACHE[key] = (tuple(meters), readings)
    return readings


def _checked_readings(
    agreement: AgreementInput, meters: Sequence[MeterSeries], window_from: datetime, window_to: datetime
) -> _Readings:
    """The readings of `meters` whose starts fall in the window, in start order, with each interval's
    length; raise `BillHeld` naming the gap if an interval of a meter's installed time has no reading."""
    parts = []
    for meter in meters:
        start = max(window_from, meter.installed_at)
        end = window_to if meter.removed_at is None else min(window_to, meter.removed_at)
        if end <= start:
            continue
        first, last = _instant(start), _instant(end)
        step = meter.interval_seconds
        aligned = -(-first.astype(np.int64) // step) * step
        expected = np.arange(aligned, last.astype(np.int64), step, dtype=np.int64).astype("datetime64[s]")
        inside = (meter.starts >= first) & (meter.starts < last)
        starts = meter.starts[inside]
        if len(starts) == len(expected) and np.array_equal(starts, expected):
            missing = expected[:0]  # the common case: exactly the expected intervals, in order
        else:
            missing = expected[~np.isin(expected, starts)]
        if len(missing):
            named = ", ".join(_iso(m) for m in missing[:_MAX_GAPS_NAMED])
            more = f" and {len(missing) - _MAX_GAPS_NAMED} more" if len(missing) > _MAX_GAPS_NAMED else ""
            raise BillHeld(
                f"{_label(agreement)}meter {meter.serial} has no reading (actual or estimated) for "
                f"{len(missing)} interval{'s' if len(missing) != 1 else ''} of {step // 60} min "
                f"starting {named}{more}"
            )
        parts.append((starts, meter.kwh_e4[inside], meter.estimated[inside], np.full(len(starts), step)))
    if not parts:
        empty = np.array([], dtype="datetime64[s]")
        return empty, np.array([], np.int64), np.array([], bool), np.array([], np.int64)
    starts, kwh_e4, estimated, seconds = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.argsort(starts, kind="stable")
    return starts[order], kwh_e4[order].astype(np.int64), estimated[order].astype(bool), seconds[order]


def _version_index(versions: Sequence[PricedVersion], starts: np.ndarray) -> np.ndarray:
    """The position in `versions` (sorted, non-overlapping) of the version valid at each start; -1 if none."""
    if len(versions) == 1 and len(starts):
        only = versions[0]  # the common case: one version covering every interval
        if starts[0] >= _instant(only.valid_from) and (
            only.valid_to is None or starts[-1] < _instant(only.valid_to)
        ):
            return np.zeros(len(starts), dtype=np.int64)
    index = np.full(len(starts), -1, dtype=np.int64)
    for i, version in enumerate(versions):
        inside = starts >= _instant(version.valid_from)
        if version.valid_to is not None:
            inside &= starts < _instant(version.valid_to)
        index[inside] = i
    return index


def _energy_lines(
    agreement: AgreementInput,
    versions: Sequence[PricedVersion],
    starts: np.ndarray,
    kwh_e4: np.ndarray,
    estimated: np.ndarray,
    sign: int,
    direction: str,
) -> list[Line]:
    which = _version_index(versions, starts)
    if np.any(which < 0):
        first = starts[which < 0][0]
        raise BillHeld(f"{_label(agreement)}no {direction.lower()} tariff version is valid at {_iso(first)}")
    # Each interval contributes one or more (group, kwh, rate) pieces: tiers split an interval. Groups
    # are "version|charge|band" keys, numbered as they appear (bands are factorised, not compared as strings).
    vocabulary: dict[str, int] = {}
    ids: list[np.ndarray] = []
    piece_kwh: list[np.ndarray] = []
    piece_rate: list[np.ndarray] = []
    piece_estimated: list[np.ndarray] = []

    def group_ids(prefix: str, codes: np.ndarray, uniques: np.ndarray) -> np.ndarray:
        """Group numbers of intervals whose band is `uniques[code]`: only bands present get a group."""
        present = np.bincount(codes, minlength=len(uniques)) > 0
        table = np.full(len(uniques), -1, np.int64)
        for code in np.flatnonzero(present).tolist():
            table[code] = vocabulary.setdefault(f"{prefix}{uniques[code]}", len(vocabulary))
        result: np.ndarray = table[codes]
        return result

    before = 0  # consumption of the period before the version's first interval (tiers are cumulative)
    for i, version in enumerate(versions):
        if len(versions) == 1:
            v_starts, v_kwh, v_est = starts, kwh_e4, estimated  # every interval (none is outside: above)
        else:
            mask = which == i
            if not mask.any():
                continue
            v_starts, v_kwh, v_est = starts[mask], kwh_e4[mask], estimated[mask]
        try:
            series, codes, uniques, event = _unit_rates_cached(version, v_starts)
        except (rates.MissingPrice, rates.UnpricedEvent) as exc:
            raise BillHeld(f"{_label(agreement)}version {version.version_id}: {exc}") from exc
        if isinstance(version.document.energy, TieredEnergy):
            split = rates.tier_split(version.document, np.concatenate([[before], v_kwh]).astype(np.int64))
            by_tier = split.kwh_e4_by_tier[1:]
            for j, (band, _, tier_rate, _) in enumerate(split.per_tier):
                take = ~event & (by_tier[:, j] > 0)
                count = int(take.sum())
                if not count:
                    continue
                ids.append(np.full(count, vocabulary.setdefault(f"{i}|{ENERGY}|{band}", len(vocabulary))))
                piece_kwh.append(by_tier[take, j])
                piece_rate.append(np.full(int(take.sum()), tier_rate, dtype=np.int64))
                piece_estimated.append(v_est[take])
            if event.any():
                ids.append(group_ids(f"{i}|{EVENT}|", codes[event], uniques))
                piece_kwh.append(v_kwh[event])
                piece_rate.append(series.rate_micros[event])
                piece_estimated.append(v_est[event])
        elif event.any():
            ids.append(group_ids(f"{i}|{EVENT}|", codes[event], uniques))
            piece_kwh.append(v_kwh[event])
            piece_rate.append(series.rate_micros[event])
            piece_estimated.append(v_est[event])
            plain = ~event
            ids.append(group_ids(f"{i}|{ENERGY}|", codes[plain], uniques))
            piece_kwh.append(v_kwh[plain])
            piece_rate.append(series.rate_micros[plain])
            piece_estimated.append(v_est[plain])
        else:  # no event interval: every interval is plain energy
            ids.append(group_ids(f"{i}|{ENERGY}|", codes, uniques))
            piece_kwh.append(v_kwh)
            piece_rate.append(series.rate_micros)
            piece_estimated.append(v_est)
        before += int(v_kwh.sum())
    if not vocabulary:
        return []
    groups = np.array(list(vocabulary), dtype=object)
    inverse = np.concatenate(ids).astype(np.int64)
    kwh = np.concatenate(piece_kwh).astype(np.int64)
    rate = np.concatenate(piece_rate).astype(np.int64)
    est = np.concatenate(piece_estimated).astype(bool)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
    kwh_sorted, rate_sorted = kwh[order], rate[order]
    kwh_sum = np.add.reduceat(kwh_sorted, bounds)
    amount = _exact_group_sums(kwh_sorted, rate_sorted, bounds)
    rate_min = np.minimum.reduceat(rate_sorted, bounds)
    rate_max = np.maximum.reduceat(rate_sorted, bounds)
    any_estimated = np.logical_or.reduceat(est[order], bounds)
    lines = []
    for g, key in enumerate(groups.tolist()):
        index, charge, band = key.split("|", 2)
        version = versions[int(index)]
        kind = EXPORT_CREDIT if sign < 0 and charge == ENERGY else charge
        uniform = rate_min[g] == rate_max[g]
        lines.append(
            Line(
                kind=kind,
                band=band,
                description=_describe(kind, band, direction),
                quantity=Decimal(int(kwh_sum[g])).scaleb(-4).quantize(KWH_PLACES),
                unit="kWh",
                unit_price=Decimal(int(rate_min[g])).scaleb(-6).quantize(MICRO) if uniform else None,
                amount=money_round_e10(sign * amount[g], version.document.currency),
                version_id=version.version_id,
                estimated=bool(any_estimated[g]),
            )
        )
    lines.sort(key=lambda line: (_position(versions, line.version_id), line.kind, line.band))
    return lines


# The rates of a version on a uniform grid of interval starts are the same for every account billed on it:
# kept (with their bands factorised) for the last few (version, grid) pairs, so that a bill run or a
# comparison prices each grid once per version.
_Priced = tuple[rates.RateSeries, np.ndarray, np.ndarray, np.ndarray]  # series, band codes, bands, event
_RATE_CACHE: dict[tuple[int, int, int, int], tuple[PricedVersion, _Priced]] = {}
_RATE_CACHE_SIZE = 64


def _unit_rates_cached(version: PricedVersion, starts: np.ndarray) -> _Priced:
    seconds = starts.astype(np.int64)
    uniform = len(seconds) > 2 and bool(np.all(np.diff(seconds) == seconds[1] - seconds[0]))
    key = (id(version), int(seconds[0]), int(seconds[-1]), len(seconds)) if uniform else None
    if key is not None:
        hit = _RATE_CACHE.get(key)
        if hit is not None and hit[0] is version:
            return hit[1]
    series = rates.unit_rates(
        version.document, starts, market=version.market, published=version.published, events=version.events
    )
    codes, uniques = pd.factorize(series.band)
    uniques = np.asarray(uniques, dtype=object)
    event = np.isin(uniques, EVENT_KINDS)[codes] if len(uniques) else np.zeros(len(codes), bool)
    priced = (series, codes.astype(np.int64), uniques, event)
    if key is not None:
        if len(_RATE_CACHE) >= _RATE_CACHE_SIZE:
            _RATE_CACHE.pop(next(iter(_RATE_CACHE)))
        _RATE_CACHE[key] = (version, priced)
    return priced


def _position(versions: Sequence[PricedVersion], version_id: int) -> int:
    return next(i for i, v in enumerate(versions) if v.version_id == version_id)


def _exact_group_sums(kwh: np.ndarray, rate: np.ndarray, bounds: np.ndarray) -> list[int]:
    """Σ kwh × rate per group (rows sorted by group, groups starting at `bounds`), exactly."""
    if not len(kwh):
        return []
    if int(np.abs(kwh).max()) * int(np.abs(rate).max()) * len(kwh) <= _INT64_MAX:
        return [int(v) for v in np.add.reduceat(kwh * rate, bounds)]
    products = kwh.astype(object) * rate.astype(object)
    ends = [*bounds[1:].tolist(), len(kwh)]
    return [int(sum(products[a:b])) for a, b in zip(bounds.tolist(), ends, strict=True)]


def _describe(kind: str, band: str, direction: str) -> str:
    label = band.replace("_", " ")
    if kind == EVENT:
        return f"{label.capitalize()} event energy" + (" (export)" if direction == EXPORT else "")
    if kind == EXPORT_CREDIT:
        return f"Export credit ({label})"
    return f"Energy ({label})"


def _standing_lines(
    agreement: AgreementInput,
    versions: Sequence[PricedVersion],
    period_start: date,
    period_end: date,
    zone: ZoneInfo,
    sign: int,
) -> list[Line]:
    """Days of the period whose local midnight is in both the agreement and the version."""
    midnights = _midnights(period_start, period_end, zone)
    in_agreement = midnights >= _instant(agreement.valid_from)
    if agreement.valid_to is not None:
        in_agreement &= midnights < _instant(agreement.valid_to)
    lines = []
    for version in versions:
        per_day = version.document.standing_charge_per_day
        if per_day is None:
            continue
        inside = in_agreement & (midnights >= _instant(version.valid_from))
        if version.valid_to is not None:
            inside &= midnights < _instant(version.valid_to)
        days = int(inside.sum())
        if not days:
            continue
        amount = money_round(days * per_day, version.document.currency)
        lines.append(
            Line(
                kind=STANDING_CHARGE,
                band="",
                description="Standing charge" + (" (export)" if sign < 0 else ""),
                quantity=Decimal(days).quantize(KWH_PLACES),
                unit="day",
                unit_price=per_day.quantize(MICRO),
                amount=sign * amount,
                version_id=version.version_id,
            )
        )
    return lines


@lru_cache(maxsize=256)
def _midnights_cached(period_start: date, period_end: date, zone: ZoneInfo) -> tuple[int, ...]:
    days = (period_end - period_start).days
    return tuple(
        (_local_midnight(period_start + timedelta(days=d), zone) - _EPOCH) // timedelta(seconds=1)
        for d in range(days)
    )


def _midnights(period_start: date, period_end: date, zone: ZoneInfo) -> np.ndarray:
    return np.array(_midnights_cached(period_start, period_end, zone), dtype=np.int64).astype("datetime64[s]")


def _demand_lines(
    versions: Sequence[PricedVersion],
    starts: np.ndarray,
    kwh_e4: np.ndarray,
    estimated: np.ndarray,
    seconds: np.ndarray,
    sign: int,
) -> list[Line]:
    """Per version with a demand rate: the highest average kW of its intervals × rate_per_kw."""
    if not len(starts) or all(v.document.demand_rate_per_kw is None for v in versions):
        return []
    which = _version_index(versions, starts)
    # Average kW in 0.0001 kW units, exactly: kwh_e4 × 3600 / seconds (meter resolutions divide an hour).
    kw_e4 = kwh_e4 * 3600 // seconds
    lines = []
    for i, version in enumerate(versions):
        per_kw = version.document.demand_rate_per_kw
        mask = which == i
        if per_kw is None or not mask.any():
            continue
        peak = Decimal(int(kw_e4[mask].max())).scaleb(-4).quantize(KWH_PLACES)
        lines.append(
            Line(
                kind=DEMAND,
                band="",
                description="Demand charge (highest average kW)",
                quantity=peak,
                unit="kW",
                unit_price=per_kw.quantize(MICRO),
                amount=sign * money_round(peak * per_kw, version.document.currency),
                version_id=version.version_id,
                estimated=bool(estimated[mask].any()),
            )
        )
    return lines
