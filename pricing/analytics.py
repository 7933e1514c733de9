"""Market analytics on hourly price series: VWAP, base/peak/off-peak averages per local day, volatility,
historical value at risk and expected shortfall, and stress what-ifs.

Conventions shared by every function:
- `prices` is a pandas Series of prices per MWh (float, in the market's currency) indexed by a tz-aware UTC
  DatetimeIndex on the hour, sorted and unique. It is read on the regular hourly grid from its first to its
  last timestamp: NaN values and absent rows are missing hours. Missing hours are skipped everywhere, and
  `skipped_hours` (also a field of `DailyAverage`, `PeriodSummary` and `stress_summary`) says how many.
- Arithmetic is float (numpy) inside. Results denominated in price per MWh (averages, VWAP, VaR, ES, the
  stress summary) leave as Decimal quantized to 0.01 with ROUND_HALF_UP, read from the float's shortest repr
  so that 0.125 becomes 0.13. Volatility is a statistic, not a price anyone pays, and stays float.
- Local time is the market's IANA zone (e.g. "Europe/Berlin"): local dates have 23 or 25 hours on DST days.
"""

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

CENT = Decimal("0.01")
HOURS_PER_YEAR = 365 * 24
MARKET_FLOOR_PER_MWH = -500.0
"""Harmonised minimum clearing price of the European day-ahead market (SDAC), EUR/MWh."""

Side = Literal["buyer", "seller"]


@dataclass(frozen=True, slots=True)
class DailyAverage:
    """Arithmetic mean prices per MWh of one local date; None where the date has no present hour of that kind.

    `hours` counts the date's hours on the series' grid (23, 24 or 25 for a full day), `skipped_hours` the
    missing ones among them.
    """

    date: dt.date
    average: Decimal | None
    peak_average: Decimal | None
    off_peak_average: Decimal | None
    hours: int
    skipped_hours: int


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """Mean (base), peak, off-peak, minimum and maximum price per MWh over every present hour of a series."""

    first_date: dt.date
    last_date: dt.date
    average: Decimal | None
    peak_average: Decimal | None
    off_peak_average: Decimal | None
    minimum: Decimal | None
    maximum: Decimal | None
    hours: int
    skipped_hours: int


def skipped_hours(prices: pd.Series, volumes: pd.Series | None = None) -> int:
    """Count the hours the other functions skip: missing prices, and missing volumes if `volumes` is given."""
    hourly = _hourly(prices)
    missing = hourly.isna()
    if volumes is not None:
        missing |= _hourly_volumes(prices, volumes, hourly.index).isna()
    return int(missing.sum())


def vwap(prices: pd.Series, volumes: pd.Series) -> Decimal:
    """Return the volume-weighted average price VWAP = sum(p_t * v_t) / sum(v_t).

    The sums run over hours where both the price p_t and the volume v_t (MWh, same index as `prices`) are
    present. Raise ValueError for a negative volume or when the total volume is 0 (VWAP is undefined).
    """
    hourly = _hourly(prices)
    hourly_volumes = _hourly_volumes(prices, volumes, hourly.index)
    present = hourly.notna() & hourly_volumes.notna()
    total_volume = float(hourly_volumes[present].sum())
    if total_volume == 0:
        raise ValueError("total volume is 0 over the hours with a price: VWAP is undefined")
    return _to_price(float((hourly[present] * hourly_volumes[present]).sum()) / total_volume)


def period_averages(
    prices: pd.Series,
    *,
    timezone: str,
    peak_hours: tuple[int, int] = (8, 20),
    peak_weekdays_only: bool = True,
) -> list[DailyAverage]:
    """Return the base, peak and off-peak average of each local date in `timezone`, in date order.

    Peak hours are those starting at local hour h with peak_hours[0] <= h < peak_hours[1], Monday to Friday
    when `peak_weekdays_only` (the EEX Peak convention, 08:00-20:00 on weekdays, holidays included); off-peak
    is every other hour. Each average is the arithmetic mean of the present hours of its kind, so a DST date
    averages over 23 or 25 hours. Dates cut by the start or end of the series cover only the hours it has.
    """
    frame = _local_frame(_hourly(prices), timezone, peak_hours, peak_weekdays_only)
    price, by_date = frame["price"], frame["date"]
    daily = pd.DataFrame(
        {
            "average": price.groupby(by_date).mean(),
            "peak": price.where(frame["peak"]).groupby(by_date).mean(),
            "off_peak": price.where(~frame["peak"]).groupby(by_date).mean(),
            "hours": price.groupby(by_date).size(),
            "skipped": price.isna().groupby(by_date).sum(),
        }
    )
    return [
        DailyAverage(
            date=row.Index,
            average=_to_price_or_none(row.average),
            peak_average=_to_price_or_none(row.peak),
            off_peak_average=_to_price_or_none(row.off_peak),
            hours=int(row.hours),
            skipped_hours=int(row.skipped),
        )
        for row in daily.itertuples()
    ]


def period_summary(
    prices: pd.Series,
    *,
    timezone: str,
    peak_hours: tuple[int, int] = (8, 20),
    peak_weekdays_only: bool = True,
) -> PeriodSummary:
    """Summarise a whole series with the peak convention of `period_averages`.

    The averages are means over all present hours of the period (not means of daily means), so every hour
    weighs the same, as in a base or peak product delivered over the period.
    """
    frame = _local_frame(_hourly(prices), timezone, peak_hours, peak_weekdays_only)
    price, peak = frame["price"], frame["peak"]
    return PeriodSummary(
        first_date=frame["date"].iloc[0],
        last_date=frame["date"].iloc[-1],
        average=_to_price_or_none(price.mean()),
        peak_average=_to_price_or_none(price[peak].mean()),
        off_peak_average=_to_price_or_none(price[~peak].mean()),
        minimum=_to_price_or_none(price.min()),
        maximum=_to_price_or_none(price.max()),
        hours=len(price),
        skipped_hours=int(price.isna().sum()),
    )


def volatility(prices: pd.Series, *, window: int | None = None, annualise: bool = False) -> float:
    """Return the sample standard deviation (ddof=1) of hour-to-hour price changes d_t = p_t - p_(t-1).

    Changes are absolute, in price per MWh: prices can be zero or negative, so log returns are undefined. A
    change needs both hours present. `window` restricts the computation to the last `window` hours of the
    series (e.g. 720 for a trailing 30 days); None uses all of it. With `annualise` the result is scaled by
    sqrt(8760), which assumes independent hourly changes; hourly prices mean-revert within the day, so read it
    as a convention for comparing series, not as the spread of prices a year ahead.
    Raise ValueError with fewer than two changes.
    """
    hourly = _hourly(prices)
    if window is not None:
        if window < 3:
            raise ValueError(f"window must be at least 3 hours (two changes), got {window}")
        hourly = hourly.iloc[-window:]
    changes = hourly.diff().dropna()
    if len(changes) < 2:
        raise ValueError("volatility needs at least two hour-to-hour changes between present hours")
    sigma = float(changes.std(ddof=1))
    return sigma * math.sqrt(HOURS_PER_YEAR) if annualise else sigma


def value_at_risk(
    prices: pd.Series, *, confidence: float = 0.95, horizon_hours: int = 1, side: Side = "buyer"
) -> Decimal:
    """Return the historical-simulation value at risk per MWh of position over `horizon_hours`.

    Scenarios are the observed changes d_t = p_t - p_(t-h) over h = `horizon_hours` (overlapping, both hours
    present). A buyer of energy loses when prices rise (loss L = d_t); a seller loses when they fall
    (L = -d_t). VaR is the empirical `confidence` quantile of the n losses sorted ascending,
    L_(1) <= ... <= L_(n): VaR = L_(k) with k = ceil(confidence * n), the smallest loss not exceeded in at
    least that share of scenarios. Positive means an adverse move of that size; it can be negative if even
    the tail is a gain. Multiply by the position in MWh for a money amount.
    """
    losses = _sorted_losses(prices, horizon_hours, side)
    return _to_price(losses[_var_rank(len(losses), confidence)])


def expected_shortfall(
    prices: pd.Series, *, confidence: float = 0.95, horizon_hours: int = 1, side: Side = "buyer"
) -> Decimal:
    """Return the historical expected shortfall ES = mean(L_(k), ..., L_(n)) per MWh of position.

    The notation is that of `value_at_risk`: ES is the average loss in the tail at and beyond VaR, so
    ES >= VaR always.
    """
    losses = _sorted_losses(prices, horizon_hours, side)
    return _to_price(float(losses[_var_rank(len(losses), confidence) :].mean()))


def renewable_surge(
    prices: pd.Series,
    *,
    timezone: str,
    hours: tuple[int, int] = (10, 16),
    drop: float = 0.6,
    shift_per_mwh: float = 0.0,
    floor_per_mwh: float = MARKET_FLOOR_PER_MWH,
) -> pd.Series:
    """Stress midday prices down as a solar and wind surplus would.

    In local hours hours[0] <= h < hours[1]: p' = max(p - drop * |p| - shift_per_mwh, floor_per_mwh). The
    `drop` cuts a positive price by that share (default 60%) and deepens a negative one by it, since a surplus
    pushes prices down either way; `shift_per_mwh` subtracts a fixed amount, which takes positive prices below
    zero; the floor is the market's minimum clearing price (-500 in SDAC). Other hours are unchanged.
    """
    _require(drop >= 0, f"drop must be >= 0, got {drop}")
    values = _validated(prices)
    stressed = (values - drop * values.abs() - shift_per_mwh).clip(lower=floor_per_mwh)
    return values.where(~_in_hours(_local(values.index, timezone), hours), stressed)


def supply_shortage(
    prices: pd.Series,
    *,
    timezone: str,
    factor: float = 1.8,
    evening_hours: tuple[int, int] = (17, 21),
    evening_factor: float = 1.25,
    cap_per_mwh: float | None = None,
) -> pd.Series:
    """Stress all prices up as a loss of generation would, the evening ramp most.

    p' = p + (m - 1) * |p|, with m = factor, or factor * evening_factor in local hours
    evening_hours[0] <= h < evening_hours[1]; then capped at `cap_per_mwh` if given. A positive price is
    multiplied by m (defaults: x1.8, x2.25 in the evening); a negative one rises by the same share of its size
    instead of being scaled further below zero.
    """
    _require(factor >= 1 and evening_factor >= 1, "factor and evening_factor must be >= 1")
    values = _validated(prices)
    multiplier = np.where(
        _in_hours(_local(values.index, timezone), evening_hours), factor * evening_factor, factor
    )
    return (values + (multiplier - 1) * values.abs()).clip(upper=cap_per_mwh)


def demand_spike(prices: pd.Series, *, k: float = 1.0, cap_per_mwh: float | None = None) -> pd.Series:
    """Stress prices up convexly, as a demand surge climbing the steep end of the merit order would.

    p' = p + k * max(p - median, 0), with the median of the series' present hours; then capped at
    `cap_per_mwh` if given. Hours at or below the median are unchanged; above it, the excess over the median
    is amplified by 1 + k.
    """
    _require(k >= 0, f"k must be >= 0, got {k}")
    values = _validated(prices)
    return (values + k * (values - values.median()).clip(lower=0)).clip(upper=cap_per_mwh)


SCENARIOS: dict[str, Callable[..., pd.Series]] = {
    "renewable_surge": renewable_surge,
    "supply_shortage": supply_shortage,
    "demand_spike": demand_spike,
}


def stress(prices: pd.Series, scenario: str, **params: Any) -> pd.Series:
    """Apply the named scenario of `SCENARIOS` with its parameters; missing hours stay missing.

    The result has the index of `prices`. `renewable_surge` and `supply_shortage` need `timezone=`.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[scenario](prices, **params)


def stress_summary(prices: pd.Series, scenario: str, **params: Any) -> dict[str, Any]:
    """Compare baseline and stressed average, maximum and buyer's 1-hour VaR95 per MWh.

    Returns {"scenario", "params", "skipped_hours", "average", "maximum", "var95"}, where each figure is a
    dict {"baseline", "stressed", "change"} of Decimals with change = stressed - baseline.
    """
    stressed = stress(prices, scenario, **params)
    baseline_figures, stressed_figures = _figures(prices), _figures(stressed)
    return {
        "scenario": scenario,
        "params": params,
        "skipped_hours": skipped_hours(prices),
        **{
            name: {
                "baseline": baseline_figures[name],
                "stressed": stressed_figures[name],
                "change": stressed_figures[name] - baseline_figures[name],
            }
            for name in baseline_figures
        },
    }


def _figures(prices: pd.Series) -> dict[str, Decimal]:
    values = _validated(prices)
    return {
        "average": _to_price(values.mean()),
        "maximum": _to_price(values.max()),
        "var95": value_at_risk(prices, confidence=0.95),
    }


def _validated(prices: pd.Series) -> pd.Series:
    """Check the series conventions of the module docstring and return `prices` as floats."""
    if not isinstance(prices, pd.Series):
        raise TypeError(f"prices must be a pandas Series, got {type(prices).__name__}")
    index = prices.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or str(index.tz) not in ("UTC", "Etc/UTC"):
        raise ValueError("prices must be indexed by a tz-aware UTC DatetimeIndex")
    if index.empty:
        raise ValueError("prices is empty")
    if not (index.is_monotonic_increasing and index.is_unique):
        raise ValueError("prices index must be sorted and free of duplicates")
    if (index != index.floor("h")).any():
        raise ValueError("prices must be hourly: every timestamp on the hour")
    values = prices.astype(float)
    if np.isinf(values).any():
        raise ValueError("prices must be finite or NaN (missing)")
    return values


def _hourly(prices: pd.Series) -> pd.Series:
    """Validate `prices` and lay it on the regular hourly grid, absent hours becoming NaN."""
    values = _validated(prices)
    return values.reindex(pd.date_range(values.index[0], values.index[-1], freq="h"))


def _hourly_volumes(prices: pd.Series, volumes: pd.Series, grid: pd.DatetimeIndex) -> pd.Series:
    if not isinstance(volumes, pd.Series) or not volumes.index.equals(prices.index):
        raise ValueError("volumes must be a pandas Series with the same index as prices")
    hourly = volumes.astype(float).reindex(grid)
    if (hourly < 0).any() or np.isinf(hourly).any():
        raise ValueError("volumes must be finite and >= 0")
    return hourly


def _local_frame(
    hourly: pd.Series, timezone: str, peak_hours: tuple[int, int], peak_weekdays_only: bool
) -> pd.DataFrame:
    """Tag each hour of the grid with its local date and whether it is a peak hour."""
    local = _local(hourly.index, timezone)
    peak = _in_hours(local, peak_hours)
    if peak_weekdays_only:
        peak &= local.day_of_week < 5
    return pd.DataFrame({"price": hourly.to_numpy(), "peak": peak, "date": local.date})


def _in_hours(local: pd.DatetimeIndex, hours: tuple[int, int]) -> np.ndarray:
    start, end = hours
    _require(0 <= start < end <= 24, f"hours must satisfy 0 <= start < end <= 24, got {hours}")
    return np.asarray((local.hour >= start) & (local.hour < end))


def _local(index: pd.DatetimeIndex, timezone: str) -> pd.DatetimeIndex:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA time zone {timezone!r}") from error
    return index.tz_convert(zone)


def _sorted_losses(prices: pd.Series, horizon_hours: int, side: Side) -> np.ndarray:
    _require(side in ("buyer", "seller"), f"side must be 'buyer' or 'seller', got {side!r}")
    _require(horizon_hours >= 1, f"horizon_hours must be >= 1, got {horizon_hours}")
    changes = _hourly(prices).diff(horizon_hours).dropna().to_numpy()
    if changes.size == 0:
        raise ValueError(f"no {horizon_hours}-hour price change between present hours")
    return np.sort(changes if side == "buyer" else -changes)


def _var_rank(n: int, confidence: float) -> int:
    """Zero-based position of L_(k), k = ceil(confidence * n), computed exactly on the decimal confidence."""
    _require(0 < confidence < 1, f"confidence must be between 0 and 1, got {confidence}")
    return max(math.ceil(Fraction(str(confidence)) * n), 1) - 1


def _to_price(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)


def _to_price_or_none(value: float) -> Decimal | None:
    return None if math.isnan(value) else _to_price(value)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
