"""The rate engine: the unit rate and band of every interval under a tariff document (docs/tariff-format.md).

Everything is vectorised with numpy so that a year of half-hours prices in milliseconds. Representation:
interval starts are `datetime64[s]` arrays of UTC instants; rates are exact `int64` micro-units of currency
per kWh; energy is `int64` in units of 0.0001 kWh; amounts are Python ints in units of 1e-10 of the
currency, so `sum of kwh * rate` is exact and rounding happens once, at a named point
(`round_half_up_cents`). Pure Python: no Django.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Literal, assert_never
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import numpy.typing as npt

from core.periods import is_aware
from pricing.documents import (
    EVENT_KINDS,
    DynamicEnergy,
    FlatEnergy,
    IndexedEnergy,
    TariffDocument,
    TieredEnergy,
    TouEnergy,
    to_micros,
)

SECONDS_PER_DAY = 86_400
KWH_E4_PER_KWH = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_INT64_MAX = np.iinfo(np.int64).max


class MissingPrice(Exception):
    """No market price (or published rate) covers an interval, so it cannot be priced."""

    code = "missing_price"

    def __init__(self, start: datetime, *, source: str = "market price", uncovered: int = 1) -> None:
        super().__init__(
            f"no {source} covers the interval starting {start.isoformat().replace('+00:00', 'Z')}"
            f" ({uncovered} interval{'s' if uncovered != 1 else ''} uncovered)"
        )
        self.start = start
        self.source = source
        self.uncovered = uncovered


class UnpricedEvent(Exception):
    """An event was declared for a tariff whose document has no rate for that event kind."""

    code = "unpriced_event"

    def __init__(self, kind: str) -> None:
        super().__init__(f"the tariff document has no rate for {kind!r} events (events.{kind}.rate_per_kwh)")
        self.kind = kind


@dataclass(frozen=True)
class PriceSeries:
    """Prices over `[starts[i], ends[i])`, sorted and non-overlapping; values in micro-units (per MWh for a
    market, per kWh for published rates)."""

    starts: np.ndarray
    ends: np.ndarray
    values_micros: np.ndarray

    def __post_init__(self) -> None:
        _check_instants(self.starts, "starts")
        _check_instants(self.ends, "ends")
        if self.values_micros.dtype != np.int64:
            raise TypeError(f"values_micros must be int64, got {self.values_micros.dtype}")
        if not len(self.starts) == len(self.ends) == len(self.values_micros):
            raise ValueError("starts, ends and values_micros must have the same length")
        if np.any(self.ends <= self.starts):
            raise ValueError("every price interval must end after it starts")
        if np.any(self.starts[1:] < self.ends[:-1]):
            raise ValueError("price intervals must be sorted by start and must not overlap")


@dataclass(frozen=True)
class Event:
    """A `critical_peak` or `emergency` event active over `[start, end)`."""

    kind: Literal["critical_peak", "emergency"]
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {', '.join(EVENT_KINDS)}, got {self.kind!r}")
        if not (is_aware(self.start) and is_aware(self.end)):
            raise ValueError("event start and end must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("an event must end after it starts")


@dataclass(frozen=True)
class RateSeries:
    """The unit rate (int64 micro-units per kWh) and band of every interval, in input order."""

    rate_micros: np.ndarray
    band: np.ndarray

    def rates_as_decimals(self) -> list[Decimal]:
        """The rates as `Decimal` with 6 decimal places."""
        return [Decimal(rate).scaleb(-6) for rate in self.rate_micros.tolist()]


@dataclass(frozen=True)
class TierSplit:
    """Consumption assigned to tiers. `kwh_e4_by_tier[i, j]` is interval i's energy in tier j;
    `per_tier` holds one `(band, kwh_e4_total, rate_micros, amount_e10)` per tier."""

    kwh_e4_by_tier: np.ndarray
    per_tier: list[tuple[str, int, int, int]]

    @property
    def amount_e10(self) -> int:
        return sum(amount for *_, amount in self.per_tier)


def as_utc_seconds(datetimes: Sequence[datetime]) -> np.ndarray:
    """Aware datetimes as a `datetime64[s]` array of UTC instants; refuses naive or sub-second values."""
    seconds = []
    for moment in datetimes:
        if not is_aware(moment):
            raise ValueError(f"{moment!r} is naive; interval starts must be timezone-aware")
        elapsed = moment - _EPOCH
        if elapsed.microseconds:
            raise ValueError(f"{moment.isoformat()} is not on a whole second")
        seconds.append(elapsed // timedelta(seconds=1))
    return np.array(seconds, dtype=np.int64).astype("datetime64[s]")


def unit_rates(
    document: TariffDocument,
    starts: np.ndarray,
    *,
    market: PriceSeries | None = None,
    published: PriceSeries | None = None,
    events: Sequence[Event] = (),
) -> RateSeries:
    """The rate and band of each interval starting at `starts` (UTC `datetime64[s]`).

    Indexed tariffs need `market` (per MWh), dynamic ones `published` (per kWh); an interval that no price
    covers raises `MissingPrice`. Tiered tariffs give the first tier here, since tiers depend on consumption:
    use `tier_split`. Active events replace the energy rate; emergency wins over critical peak.
    """
    _check_instants(starts, "starts")
    energy = document.energy
    if isinstance(energy, FlatEnergy):
        rates = np.full(len(starts), to_micros(energy.rate_per_kwh), dtype=np.int64)
        bands = np.full(len(starts), "flat", dtype=object)
    elif isinstance(energy, TieredEnergy):
        rates = np.full(len(starts), to_micros(energy.tiers[0].rate_per_kwh), dtype=np.int64)
        bands = np.full(len(starts), "tier_1", dtype=object)
    elif isinstance(energy, TouEnergy):
        rates, bands = _tou_rates(energy, starts, document.zone)
    elif isinstance(energy, IndexedEnergy):
        if market is None:
            raise ValueError("an indexed tariff needs the market price series (market=...)")
        rates, bands = _indexed_rates(energy, starts, market, document.zone)
    elif isinstance(energy, DynamicEnergy):
        if published is None:
            raise ValueError("a dynamic tariff needs its published rate series (published=...)")
        rates = published.values_micros[_containing(published, starts, "published rate")]
        bands = np.full(len(starts), "dynamic", dtype=object)
    else:
        assert_never(energy)
    if events:
        rates, bands = _apply_events(document, starts, rates, bands, events)
    return RateSeries(rate_micros=rates, band=bands)


def tier_split(document: TariffDocument, kwh_e4: np.ndarray) -> TierSplit:
    """Assign consumption (int64, 0.0001 kWh, in interval order) to the tiers of a tiered tariff.

    Tiers apply to cumulative consumption within the billing period, so pass one period's intervals; an
    interval that crosses a tier boundary is split at the boundary. Consumption beyond a bounded last tier
    stays in the last tier.
    """
    energy = document.energy
    if not isinstance(energy, TieredEnergy):
        raise TypeError(f"tier_split needs a tiered tariff, got {energy.kind!r}")
    if kwh_e4.dtype != np.int64 or kwh_e4.ndim != 1:
        raise TypeError(f"kwh_e4 must be a 1-d int64 array, got {kwh_e4.dtype} with {kwh_e4.ndim} dimensions")
    if np.any(kwh_e4 < 0):
        raise ValueError("tiers apply to consumption: kwh_e4 must not be negative")
    cumulative_end = np.cumsum(kwh_e4)
    cumulative_start = cumulative_end - kwh_e4
    by_tier = np.zeros((len(kwh_e4), len(energy.tiers)), dtype=np.int64)
    per_tier = []
    lower = 0
    for j, tier in enumerate(energy.tiers):
        last = j == len(energy.tiers) - 1
        upper = _INT64_MAX if last or tier.up_to_kwh is None else int(tier.up_to_kwh * KWH_E4_PER_KWH)
        portion = np.minimum(cumulative_end, upper) - np.maximum(cumulative_start, lower)
        by_tier[:, j] = np.maximum(portion, 0)
        total = int(by_tier[:, j].sum())
        rate = to_micros(tier.rate_per_kwh)
        per_tier.append((f"tier_{j + 1}", total, rate, total * rate))
        lower = upper
    return TierSplit(kwh_e4_by_tier=by_tier, per_tier=per_tier)


def amount_e10(kwh_e4: np.ndarray, rate_micros: np.ndarray) -> int:
    """sum of kwh_e4 * rate_micros exactly, as a Python int (1e-10 of the currency); falls back to Python
    integers when int64 could overflow."""
    if kwh_e4.shape != rate_micros.shape:
        raise ValueError(f"shapes differ: {kwh_e4.shape} and {rate_micros.shape}")
    if not (np.issubdtype(kwh_e4.dtype, np.integer) and np.issubdtype(rate_micros.dtype, np.integer)):
        raise TypeError(f"amounts need integer arrays, got {kwh_e4.dtype} and {rate_micros.dtype}")
    if not len(kwh_e4):
        return 0
    bound = int(np.abs(kwh_e4).max()) * int(np.abs(rate_micros).max()) * len(kwh_e4)
    if bound <= _INT64_MAX:
        return int(np.dot(kwh_e4.astype(np.int64), rate_micros.astype(np.int64)))
    return int(np.dot(kwh_e4.astype(object), rate_micros.astype(object)))


def round_half_up_cents(amount_e10: int) -> Decimal:
    """An amount in 1e-10 units rounded to 0.01, ties away from zero (Decimal's ROUND_HALF_UP)."""
    return Decimal(_divide_half_up(amount_e10, 10**8)).scaleb(-2)


def _divide_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` (denominator even, positive) rounded half away from zero."""
    quotient = (abs(numerator) + denominator // 2) // denominator
    return -quotient if numerator < 0 else quotient


def _ceil_instant(moment: datetime) -> np.datetime64:
    """The first whole UTC second at or after `moment`: for whole-second starts t, t >= moment iff
    t >= the ceiling."""
    return np.datetime64(-((_EPOCH - moment) // timedelta(seconds=1)), "s")


def _check_instants(values: np.ndarray, name: str) -> None:
    if not isinstance(values, np.ndarray) or values.dtype != np.dtype("datetime64[s]") or values.ndim != 1:
        raise TypeError(f"{name} must be a 1-d numpy array of dtype datetime64[s] (UTC instants)")


def local_seconds(starts: np.ndarray, zone: ZoneInfo) -> npt.NDArray[np.int64]:
    """Local wall-clock times in `zone` as int64 seconds since 1970-01-01T00:00 local.

    Each start takes the offset in force at it: the zone's offset changes are found once per zone and UTC
    year (`_offset_changes`) and one binary search places every start between two of them. Asking the zone
    about every element instead, as pandas 2.x's `tz_convert(zone).tz_localize(None)` does for a `ZoneInfo`,
    costs about 4 ms for a year of half-hours.
    """
    utc: npt.NDArray[np.int64] = starts.astype(np.int64)
    if not len(utc):
        return utc
    first_year, last_year = (_utc_year(int(second)) for second in (utc.min(), utc.max()))
    changes = [change for year in range(first_year, last_year + 1) for change in _offset_changes(zone, year)]
    changed_at = np.array([second for second, _ in changes], dtype=np.int64)
    offsets = np.array([offset for _, offset in changes], dtype=np.int64)
    local: npt.NDArray[np.int64] = utc + offsets[np.searchsorted(changed_at, utc, side="right") - 1]
    return local


def _utc_year(second: int) -> int:
    return int(np.datetime64(second, "s").astype("datetime64[Y]").astype(np.int64)) + 1970


@cache
def _offset_changes(zone: ZoneInfo, year: int) -> tuple[tuple[int, int], ...]:
    """The UTC offset of `zone` (seconds) from the start of UTC year `year` and from each change in it, as
    `(UTC second the offset starts, offset)` pairs; cached.

    The offset is sampled once a day and every change found to the second by bisection. A change that is
    undone within a day would be missed, but none is: the shortest such excursion in the tz database lasts
    a week (America/Noronha, October 2000), and regular DST lasts months.
    """
    year_start = (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)
    year_end = (datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)
    samples = [*range(year_start, year_end, SECONDS_PER_DAY), year_end]
    offsets = [_offset_at(zone, second) for second in samples]
    changes = [(year_start, offsets[0])]
    for i in range(1, len(samples)):
        changes += _changes_between(zone, (samples[i - 1], offsets[i - 1]), (samples[i], offsets[i]))
    return tuple(changes)


def _changes_between(zone: ZoneInfo, low: tuple[int, int], high: tuple[int, int]) -> list[tuple[int, int]]:
    """The offset changes in `(low, high]` (each a `(second, offset)` pair), assuming none is undone."""
    (low_second, low_offset), (high_second, high_offset) = low, high
    if low_offset == high_offset:
        return []
    if high_second - low_second == 1:
        return [high]
    middle_second = (low_second + high_second) // 2
    middle = (middle_second, _offset_at(zone, middle_second))
    return _changes_between(zone, low, middle) + _changes_between(zone, middle, high)


def _offset_at(zone: ZoneInfo, second: int) -> int:
    """The UTC offset of `zone` at a UTC instant, in whole seconds."""
    offset = (_EPOCH + timedelta(seconds=second)).astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset
    return offset // timedelta(seconds=1)


def _tou_rates(energy: TouEnergy, starts: np.ndarray, zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Look up each interval's period in a (day type, month, half-hour) table of period indices."""
    names = list(energy.rates_per_kwh)
    index = {name: i for i, name in enumerate(names)}
    table = np.array(
        [[_half_hours(day, index) for day in schedule] for schedule in (energy.weekday, energy.weekend)],
        dtype=np.int64,
    )
    local = local_seconds(starts, zone)
    days = local // SECONDS_PER_DAY
    half_hour = (local % SECONDS_PER_DAY) // 1800
    month = local.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    weekend = (days + 3) % 7 >= 5  # 1970-01-01 was a Thursday; Monday is 0
    if energy.holidays and len(local):
        weekend |= np.isin(days, _holiday_days(energy.holidays, int(days.min()), int(days.max())))
    period = table[weekend.astype(np.int64), month, half_hour]
    rates = np.array([to_micros(energy.rates_per_kwh[name]) for name in names], dtype=np.int64)
    return rates[period], np.array(names, dtype=object)[period]


def tou_periods(energy: TouEnergy, starts: np.ndarray, zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """The rate (micro-units) and period name of each start under a time-of-use schedule; also used for
    time-of-use demand windows (billing.commercial), whose schedules have the same shape."""
    _check_instants(starts, "starts")
    return _tou_rates(energy, starts, zone)


def _half_hours(day: tuple[str, ...], index: dict[str, int]) -> list[int]:
    """A day's period indices per half-hour; an hourly schedule covers both halves of each hour."""
    repeat = 48 // len(day)
    return [index[name] for name in day for _ in range(repeat)]


def _holiday_days(country: str, first_day: int, last_day: int) -> np.ndarray:
    """Public holidays of `country` in the years between two local day numbers, as day numbers."""
    first_year = (_EPOCH_DATE + timedelta(days=first_day)).year
    last_year = (_EPOCH_DATE + timedelta(days=last_day)).year
    days = [day for year in range(first_year, last_year + 1) for day in _holidays_in(country, year)]
    return np.array(days, dtype=np.int64)


@cache
def _holidays_in(calendar: str, year: int) -> tuple[int, ...]:
    """One year's public holidays of `calendar` ('GB', or a subdivision: 'GB-ENG') as day numbers since
    1970-01-01; cached."""
    country, _, subdivision = calendar.partition("-")
    days = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return tuple((day - _EPOCH_DATE).days for day in days)


def _containing(series: PriceSeries, starts: np.ndarray, source: str) -> np.ndarray:
    """Index of the price interval containing each start; raise `MissingPrice` if one is uncovered."""
    position = np.searchsorted(series.starts, starts, side="right") - 1
    covered = position >= 0
    covered[covered] = starts[covered] < series.ends[position[covered]]
    if not covered.all():
        uncovered = starts[~covered]
        first = int(uncovered.astype(np.int64).min())
        raise MissingPrice(_EPOCH + timedelta(seconds=first), source=source, uncovered=len(uncovered))
    return position


def _indexed_rates(
    energy: IndexedEnergy, starts: np.ndarray, market: PriceSeries, zone: ZoneInfo
) -> tuple[np.ndarray, np.ndarray]:
    """rate = clamp(multiplier * price_per_mwh / 1000 + adder + peak, floor, cap), to 6 places half-up.

    In micro-units: multiplier_micros * price_micros / 10^9, rounded half away from zero on the exact
    integer quotient. The peak adder follows the local start of the market interval, as TARIFFS.md says.
    """
    which = _containing(market, starts, "market price")
    prices = market.values_micros[which]
    multiplier = to_micros(energy.multiplier)
    rates = _scale_half_up(prices, multiplier, 10**9) + to_micros(energy.adder_per_kwh)
    bands = np.full(len(starts), "indexed", dtype=object)
    if energy.peak_adder is not None:
        peak = energy.peak_adder
        time_of_day = local_seconds(market.starts[which], zone) % SECONDS_PER_DAY
        start = peak.start.hour * 3600 + peak.start.minute * 60
        end = peak.end.hour * 3600 + peak.end.minute * 60
        if start < end:
            in_peak = (time_of_day >= start) & (time_of_day < end)
        else:
            in_peak = (time_of_day >= start) | (time_of_day < end)
        rates = rates + np.where(in_peak, to_micros(peak.per_kwh), 0)
        bands[in_peak] = "indexed_peak"
    if energy.floor_per_kwh is not None:
        rates = np.maximum(rates, to_micros(energy.floor_per_kwh))
    if energy.cap_per_kwh is not None:
        rates = np.minimum(rates, to_micros(energy.cap_per_kwh))
    return rates, bands


def _scale_half_up(values: np.ndarray, factor: int, denominator: int) -> npt.NDArray[np.int64]:
    """values * factor / denominator rounded half away from zero, exactly; int64 when it cannot overflow."""
    if not len(values):
        return values.astype(np.int64)
    largest = int(np.abs(values).max()) * abs(factor) + denominator
    product = values.astype(np.int64 if largest <= _INT64_MAX else object) * factor
    quotient = (np.abs(product) + denominator // 2) // denominator
    scaled: npt.NDArray[np.int64] = np.where(product < 0, -quotient, quotient).astype(np.int64)
    return scaled


def _apply_events(
    document: TariffDocument,
    starts: np.ndarray,
    rates: np.ndarray,
    bands: np.ndarray,
    events: Sequence[Event],
) -> tuple[np.ndarray, np.ndarray]:
    """Replace the rate of intervals starting inside an event; emergencies are applied last so they win."""
    rates, bands = rates.copy(), bands.copy()
    for kind in ("critical_peak", "emergency"):  # in this order, so that emergencies win
        windows = sorted(
            (_ceil_instant(event.start), _ceil_instant(event.end)) for event in events if event.kind == kind
        )
        if not windows:
            continue
        rate = document.events.rate_for(kind)
        if rate is None:
            raise UnpricedEvent(kind)
        active = _inside_any(starts, windows)
        rates[active] = to_micros(rate)
        bands[active] = kind
    return rates, bands


def _inside_any(starts: np.ndarray, windows: list[tuple[np.datetime64, np.datetime64]]) -> np.ndarray:
    """Whether each start lies in one of the `[start, end)` windows (sorted by start), in O(n log m).

    A start t is covered when some window starting at or before t ends after t, i.e. when the latest end
    among the windows starting at or before t is after t.
    """
    window_starts = np.array([start for start, _ in windows], dtype="datetime64[s]")
    latest_end = np.maximum.accumulate(np.array([end for _, end in windows], dtype="datetime64[s]"))
    position = np.searchsorted(window_starts, starts, side="right") - 1
    return (position >= 0) & (starts < latest_end[np.maximum(position, 0)])
