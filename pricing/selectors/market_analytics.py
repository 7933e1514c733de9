"""Market analytics over stored prices: averages, volatility, VaR/ES and stress scenarios (the arithmetic is
`pricing.analytics`, without Django)."""

import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.errors import NOT_FOUND, DomainError
from core.periods import check_period
from pricing import analytics
from pricing.selectors.markets import market_get, market_price_series


class UnableToAnalyseMarket(DomainError, code="analytics_invalid"): ...


MAX_ANALYTICS_DAYS = 366


@dataclass(frozen=True)
class MarketAnalytics:
    market_code: str
    currency: str
    confidence: float
    summary: analytics.PeriodSummary
    volatility: float | None
    value_at_risk: Decimal | None
    expected_shortfall: Decimal | None
    var95: Decimal | None
    var99: Decimal | None
    es95: Decimal | None
    es99: Decimal | None


def _series(market_code: str, period_from: dt.datetime, period_to: dt.datetime):
    market = market_get(code=market_code)
    if market is None:
        raise UnableToAnalyseMarket(f"No market '{market_code}'.", field="market", code=NOT_FOUND)
    check_period(
        period_from,
        period_to,
        fields=("period_from", "period_to"),
        names=("periodFrom", "periodTo"),
        longest=dt.timedelta(days=MAX_ANALYTICS_DAYS),
        error=UnableToAnalyseMarket,
    )
    if market.interval_minutes != 60:
        raise UnableToAnalyseMarket("Analytics need hourly prices.", field="market")
    series = market_price_series(market=market, period_from=period_from, period_to=period_to)
    if series.empty:
        raise UnableToAnalyseMarket("No prices in the period.", field="period_from", code="no_prices")
    return market, series


def _or_none(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Statistics that need at least two hour-to-hour changes are None on a shorter series."""
    try:
        return function(*args, **kwargs)
    except ValueError:
        return None


def market_analytics(
    *, market_code: str, period_from: dt.datetime, period_to: dt.datetime, confidence: float = 0.95
) -> MarketAnalytics:
    """Base/peak/off-peak averages, min/max, volatility, VaR and ES (buyer, 1 hour) of [period_from,
    period_to). VWAP needs traded volumes, which the market prices do not carry."""
    if not 0 < confidence < 1:
        raise UnableToAnalyseMarket("confidence must be between 0 and 1.", field="confidence")
    market, series = _series(market_code, period_from, period_to)
    return MarketAnalytics(
        market_code=market.code,
        currency=market.currency,
        confidence=confidence,
        summary=analytics.period_summary(series, timezone=market.timezone),
        volatility=_or_none(analytics.volatility, series),
        value_at_risk=_or_none(analytics.value_at_risk, series, confidence=confidence),
        expected_shortfall=_or_none(analytics.expected_shortfall, series, confidence=confidence),
        var95=_or_none(analytics.value_at_risk, series, confidence=0.95),
        var99=_or_none(analytics.value_at_risk, series, confidence=0.99),
        es95=_or_none(analytics.expected_shortfall, series, confidence=0.95),
        es99=_or_none(analytics.expected_shortfall, series, confidence=0.99),
    )


def market_stress(
    *,
    market_code: str,
    period_from: dt.datetime,
    period_to: dt.datetime,
    scenario: str,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`analytics.stress_summary` of the period under a named scenario; the market's zone is supplied."""
    if scenario not in analytics.SCENARIOS:
        raise UnableToAnalyseMarket(
            f"Unknown scenario '{scenario}'; choose one of {', '.join(analytics.SCENARIOS)}.",
            field="scenario",
        )
    market, series = _series(market_code, period_from, period_to)
    function = analytics.SCENARIOS[scenario]
    allowed = set(inspect.signature(function).parameters) - {"prices", "timezone"}
    params = dict(params or {})
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise UnableToAnalyseMarket(
            f"Unknown parameter {', '.join(unknown)} of {scenario}; known: {', '.join(sorted(allowed))}.",
            field="params",
        )
    if "timezone" in inspect.signature(function).parameters:
        params["timezone"] = market.timezone
    try:
        summary = analytics.stress_summary(series, scenario, **params)
    except (ValueError, TypeError) as exc:
        raise UnableToAnalyseMarket(str(exc), field="params") from exc
    return {**summary, "market_code": market.code, "currency": market.currency}
