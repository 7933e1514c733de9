"""Commercial and industrial charges of `tariff/v1` (docs/commercial-tariffs.md): demand with averaging
windows, time-of-use demand, ratchets, coincident peak demand, minimum monthly charges and riders.

Called by `billing.engine` per agreement; the arithmetic follows docs/tariff-format.md: one line per (version,
charge, band), ROUND_HALF_UP to 0.01 once per line. Demand is kept exactly in 0.0001 kW (`kw_e4`). Pure
Python with numpy, no Django.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np

from billing.bill_data import AgreementInput, Line, PricedVersion
from pricing import engine as rates
from pricing.documents import TariffDocument, Tax, TouEnergy

CENT = Decimal("0.01")
KW_PLACES = Decimal("0.0001")
MICRO = Decimal("0.000001")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DEMAND = "DEMAND"
MINIMUM_CHARGE = "MINIMUM_CHARGE"
RIDER = "RIDER"
RATCHET_BAND = "ratchet"
COINCIDENT_BAND = "coincident_peak"


class CommercialHeld(Exception):
    """The charges cannot be computed as the data stands (converted to `BillHeld` by the engine)."""


def _instant(moment: datetime) -> np.datetime64:
    return np.datetime64((moment - _EPOCH) // timedelta(seconds=1), "s")


def _kw(kw_e4: int) -> Decimal:
    return Decimal(int(kw_e4)).scaleb(-4).quantize(KW_PLACES)


def _round_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _divide_half_up(numerator: int, denominator: int) -> int:
    quotient = (2 * abs(numerator) + denominator) // (2 * denominator)
    return -quotient if numerator < 0 else quotient


def demand_windows(
    starts: np.ndarray, kwh_e4: np.ndarray, seconds: np.ndarray, averaging_minutes: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Average kW (0.0001 kW, exact) per demand window and the window starts.

    Without an averaging window each reading interval is a window (kWh ÷ interval hours). With one, the
    readings are summed over clock-aligned windows of 15, 30 or 60 minutes (aligned on UTC, which is the
    local clock in zones with whole-hour offsets) and divided by the window's hours; a reading longer
    than the window, or not dividing it, cannot be averaged that way and holds the bill.
    """
    if not len(starts):
        return starts, np.array([], dtype=np.int64)
    if averaging_minutes is None:
        return starts, kwh_e4 * 3600 // seconds
    window = averaging_minutes * 60
    if np.any(seconds > window) or np.any(window % seconds):
        raise CommercialHeld(
            f"demand.averaging_minutes is {averaging_minutes} but the meter reads every "
            f"{int(seconds.max()) // 60} min: the window must be a multiple of the reading interval"
        )
    ids = starts.astype(np.int64) // window
    unique, inverse = np.unique(ids, return_inverse=True)
    sums = np.zeros(len(unique), dtype=np.int64)
    np.add.at(sums, inverse, kwh_e4)
    return (unique * window).astype("datetime64[s]"), sums * 3600 // window


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def demand_lines(
    *,
    agreement: AgreementInput,
    versions: Sequence[PricedVersion],
    version_index: np.ndarray,
    starts: np.ndarray,
    kwh_e4: np.ndarray,
    estimated: np.ndarray,
    seconds: np.ndarray,
    sign: int,
    history: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> list[Line]:
    """Per version: the facility demand (ratcheted), one line per time-of-use demand period and the
    coincident peak demand. `history` holds the readings (starts, kwh_e4, seconds) before the period, for
    ratchets."""
    lines = []
    for i, version in enumerate(versions):
        document = version.document
        mask = version_index == i
        if not mask.any():
            continue
        v_starts, v_kwh, v_seconds = starts[mask], kwh_e4[mask], seconds[mask]
        v_estimated = bool(estimated[mask].any())
        w_starts, w_kw = demand_windows(v_starts, v_kwh, v_seconds, document.demand_averaging_minutes)
        per_kw = document.demand_rate_per_kw
        if per_kw is not None:
            peak = int(w_kw.max())
            band, description = "", "Demand charge (highest average kW)"
            ratchet = document.demand_ratchet
            if ratchet is not None and history is not None and len(history[0]):
                _, h_kw = demand_windows(*history, document.demand_averaging_minutes)
                highest = int(h_kw.max())
                floor = _divide_half_up(highest * int(ratchet.percent * 10_000), 1_000_000)
                if floor > peak:
                    peak = floor
                    band = RATCHET_BAND
                    description = (
                        f"Demand charge (ratchet: {ratchet.percent.normalize():f} % of {_kw(highest)} kW, "
                        f"the highest of the previous {ratchet.months} months)"
                    )
            quantity = _kw(peak)
            lines.append(
                Line(
                    kind=DEMAND,
                    band=band,
                    description=description,
                    quantity=quantity,
                    unit="kW",
                    unit_price=per_kw.quantize(MICRO),
                    amount=sign * _round_cents(quantity * per_kw),
                    version_id=version.version_id,
                    estimated=v_estimated,
                )
            )
        if document.demand_tou is not None:
            lines += _tou_demand_lines(document, version.version_id, w_starts, w_kw, v_estimated, sign)
        if document.coincident_peak is not None:
            lines.append(
                _coincident_line(
                    agreement,
                    document,
                    version.version_id,
                    v_starts,
                    v_kwh,
                    v_seconds,
                    v_estimated,
                    sign,
                )
            )
    return lines


def _tou_demand_lines(
    document: TariffDocument,
    version_id: int,
    w_starts: np.ndarray,
    w_kw: np.ndarray,
    estimated: bool,
    sign: int,
) -> list[Line]:
    tou = document.demand_tou
    assert tou is not None
    schedule = TouEnergy(
        rates_per_kwh=tou.rates_per_kw, weekday=tou.weekday, weekend=tou.weekend, holidays=tou.holidays
    )
    _, bands = rates.tou_periods(schedule, w_starts, document.zone)
    lines = []
    for name, per_kw in tou.rates_per_kw.items():
        inside = bands == name
        if not inside.any():
            continue
        quantity = _kw(int(w_kw[inside].max()))
        lines.append(
            Line(
                kind=DEMAND,
                band=name,
                description=f"Demand charge ({name.replace('_', ' ')}, highest average kW)",
                quantity=quantity,
                unit="kW",
                unit_price=per_kw.quantize(MICRO),
                amount=sign * _round_cents(quantity * per_kw),
                version_id=version_id,
                estimated=estimated,
            )
        )
    return lines


def _coincident_line(
    agreement: AgreementInput,
    document: TariffDocument,
    version_id: int,
    starts: np.ndarray,
    kwh_e4: np.ndarray,
    seconds: np.ndarray,
    estimated: bool,
    sign: int,
) -> Line:
    """The customer's average kW over the k highest-load intervals of the feeder (or system) among the
    version's intervals of the period; ties go to the earlier interval."""
    peak = document.coincident_peak
    assert peak is not None
    load = agreement.feeder_load if peak.basis == "feeder" else agreement.system_load
    if load is None:
        raise CommercialHeld(f"coincident peak demand needs the {peak.basis} load, which is not available")
    inside = (load.starts >= starts.min()) & (load.starts <= starts.max())
    l_starts, l_kwh = load.starts[inside], load.kwh_e4[inside]
    if not len(l_starts):
        raise CommercialHeld(f"no {peak.basis} load covers the billing period (coincident peak demand)")
    order = np.lexsort((l_starts.astype(np.int64), -l_kwh))
    chosen = l_starts[order[: peak.intervals]]
    position = np.searchsorted(starts, chosen)
    position = np.minimum(position, len(starts) - 1)
    found = starts[position] == chosen
    kw_e4 = np.where(found, kwh_e4[position] * 3600 // seconds[position], 0)
    mean = _divide_half_up(int(kw_e4.sum()), len(chosen))
    quantity = _kw(mean)
    when = ", ".join(
        (_EPOCH + timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%MZ") for s in chosen.astype(np.int64)[:3]
    )
    return Line(
        kind=DEMAND,
        band=COINCIDENT_BAND,
        description=f"Coincident peak demand ({peak.basis} peak{'s' if len(chosen) > 1 else ''} {when}"
        f"{' …' if len(chosen) > 3 else ''})",
        quantity=quantity,
        unit="kW",
        unit_price=peak.rate_per_kw.quantize(MICRO),
        amount=sign * _round_cents(quantity * peak.rate_per_kw),
        version_id=version_id,
        estimated=estimated,
    )


def month_fraction(midnights: np.ndarray, zone: ZoneInfo) -> Fraction:
    """Σ over the charged days of 1 / (days in the day's local month): a whole month is exactly 1."""
    total = Fraction(0)
    for seconds in midnights.astype(np.int64).tolist():
        local = (_EPOCH + timedelta(seconds=seconds)).astimezone(zone).date()
        following = date(local.year + (local.month == 12), local.month % 12 + 1, 1)
        total += Fraction(1, (following - date(local.year, local.month, 1)).days)
    return total


def monthly_lines(
    *,
    version: PricedVersion,
    charged_midnights: np.ndarray,
    zone: ZoneInfo,
    version_lines: Sequence[Line],
    currency: str,
) -> list[Line]:
    """The minimum charge top-up and the riders of one version of an import agreement.

    Per-month amounts are prorated by `month_fraction` of the days the version is charged (the days the
    standing charge counts). The minimum tops the version's lines up to the prorated minimum; a percentage
    rider takes its rate of the version's lines including the minimum top-up (never of other riders).
    """
    document = version.document
    if document.minimum_charge_per_month is None and not document.riders:
        return []
    fraction = month_fraction(charged_midnights, zone)
    months = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    days = Decimal(len(charged_midnights)).quantize(KW_PLACES)
    base = sum((line.amount for line in version_lines), Decimal("0.00"))
    lines = []
    if document.minimum_charge_per_month is not None and len(charged_midnights):
        minimum = _prorate(document.minimum_charge_per_month, fraction)
        if base < minimum:
            lines.append(
                Line(
                    kind=MINIMUM_CHARGE,
                    band="",
                    description=f"Minimum charge top-up (minimum {minimum} for {days.normalize():f} days)",
                    quantity=days,
                    unit="day",
                    unit_price=None,
                    amount=minimum - base,
                    version_id=version.version_id,
                )
            )
            base = minimum
    for rider in document.riders:
        tax_fields = _rider_tax(rider.tax)
        if rider.kind == "fixed":
            assert rider.amount_per_month is not None
            if not len(charged_midnights):
                continue
            lines.append(
                Line(
                    kind=RIDER,
                    band=rider.name[:40],
                    description=rider.name,
                    quantity=months.quantize(KW_PLACES, ROUND_HALF_UP),
                    unit="month",
                    unit_price=rider.amount_per_month.quantize(MICRO),
                    amount=_prorate(rider.amount_per_month, fraction),
                    version_id=version.version_id,
                    **tax_fields,
                )
            )
        else:
            assert rider.rate is not None
            lines.append(
                Line(
                    kind=RIDER,
                    band=rider.name[:40],
                    description=f"{rider.name} ({(rider.rate * 100).normalize():f} % of {base} {currency})",
                    quantity=base.quantize(KW_PLACES),
                    unit=currency[:8],
                    unit_price=rider.rate.quantize(MICRO),
                    amount=_round_cents(base * rider.rate),
                    version_id=version.version_id,
                    **tax_fields,
                )
            )
    return lines


def _prorate(per_month: Decimal, fraction: Fraction) -> Decimal:
    exact = Fraction(per_month) * fraction
    return _round_cents(Decimal(exact.numerator) / Decimal(exact.denominator))


def _rider_tax(tax: "Tax | Literal['tariff', 'exempt']") -> dict[str, Any]:
    if tax == "tariff":
        return {}
    if tax == "exempt":
        return {"tax_exempt": True}
    return {"own_tax": (tax.name, tax.rate)}


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
