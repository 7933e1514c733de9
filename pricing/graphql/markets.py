"""GraphQL operations of the pricing app: markets (prices, import, analytics, stress, clearing).

`marketPricesImport` returns the kernel's `IngestResult` type, the same as `readingsIngest`.
"""

import datetime as dt
import enum
from decimal import Decimal

import strawberry
import strawberry_django
from django.utils import timezone
from strawberry.scalars import JSON

from core.api.errors import api_error, input_error
from core.api.permissions import ScopeRequired
from core.api.types import IngestResult
from core.errors import BAD_USER_INPUT
from core.periods import check_period
from pricing import clearing, models
from pricing.selectors import market_analytics
from pricing.selectors import markets as selectors
from pricing.services import markets as services

MAX_PRICES_PER_REQUEST = 10_000
MAX_PRICE_PERIOD = dt.timedelta(days=93)


# --- types -------------------------------------------------------------------------------------------------


@strawberry_django.type(models.MarketPrice, name="MarketPrice")
class MarketPriceType:
    """The price of one interval [intervalStart, intervalEnd), per MWh in `currency`; may be negative."""

    interval_start: dt.datetime
    interval_end: dt.datetime
    price_per_mwh: Decimal

    @strawberry_django.field(select_related=["market"], only=["market__currency"])
    def currency(self) -> str:
        return self.market.currency


@strawberry.type
class MarketAnalytics:
    """Statistics of a market's hourly prices over [periodFrom, periodTo), per MWh in `currency`.

    Peak is 08:00-20:00 local time on weekdays. VaR and ES are a buyer's, over one hour, by historical
    simulation; `valueAtRisk`/`expectedShortfall` at the requested `confidence`. A statistic that needs more
    hours than the period has is null. VWAP is not offered: market prices carry no traded volumes.
    """

    market: str
    currency: str
    confidence: float
    first_date: dt.date
    last_date: dt.date
    hours: int
    skipped_hours: int
    average: Decimal | None
    peak_average: Decimal | None
    off_peak_average: Decimal | None
    minimum: Decimal | None
    maximum: Decimal | None
    volatility: float | None
    value_at_risk: Decimal | None
    expected_shortfall: Decimal | None
    var95: Decimal | None
    var99: Decimal | None
    es95: Decimal | None
    es99: Decimal | None


@strawberry.enum
class StressScenario(enum.Enum):
    RENEWABLE_SURGE = "renewable_surge"
    SUPPLY_SHORTAGE = "supply_shortage"
    DEMAND_SPIKE = "demand_spike"


@strawberry.type
class StressFigure:
    baseline: Decimal
    stressed: Decimal
    change: Decimal


@strawberry.type
class MarketStress:
    market: str
    currency: str
    scenario: StressScenario
    params: JSON
    skipped_hours: int
    average: StressFigure
    maximum: StressFigure
    var95: StressFigure


@strawberry.type
class OrderFill:
    id: str
    volume: Decimal


@strawberry.type
class MarketClearing:
    """Uniform clearing price per MWh (null without a trade), traded MWh and the accepted orders."""

    price: Decimal | None
    volume: Decimal
    crossed: bool
    accepted_offers: list[OrderFill]
    accepted_bids: list[OrderFill]


# --- inputs ------------------------------------------------------------------------------------------------


@strawberry.input
class MarketPriceInput:
    interval_start: dt.datetime
    interval_end: dt.datetime
    price_per_mwh: Decimal


@strawberry.input
class MarketPricesImportInput:
    market: str
    currency: str
    prices: list[MarketPriceInput]


@strawberry.input
class OrderInput:
    """A supply offer or demand bid: `volume` MWh at `price` per MWh or better."""

    price: Decimal
    volume: Decimal
    id: str | None = None


# --- operations --------------------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("pricing:read")])
    def market_prices(
        self, market: str, period_from: dt.datetime, period_to: dt.datetime
    ) -> list[MarketPriceType]:
        """Prices whose interval starts in [periodFrom, periodTo), in time order (at most 93 days)."""
        check_period(
            period_from,
            period_to,
            fields=("periodFrom", "periodTo"),
            longest=MAX_PRICE_PERIOD,
            error=input_error,
        )
        found = selectors.market_get(code=market)
        if found is None:
            raise api_error(f"No market '{market}'.", "NOT_FOUND", field="market")
        return selectors.market_price_list(market=found, period_from=period_from, period_to=period_to)

    @strawberry.field(extensions=[ScopeRequired("pricing:read")])
    def market_analytics(
        self, market: str, period_from: dt.datetime, period_to: dt.datetime, confidence: float = 0.95
    ) -> MarketAnalytics:
        """Averages, extremes, volatility, VaR and ES of a market's prices over [periodFrom, periodTo)."""
        check_period(period_from, period_to, fields=("periodFrom", "periodTo"), error=input_error)
        result = market_analytics.market_analytics(
            market_code=market, period_from=period_from, period_to=period_to, confidence=confidence
        )
        summary = result.summary
        return MarketAnalytics(
            market=result.market_code,
            currency=result.currency,
            confidence=result.confidence,
            first_date=summary.first_date,
            last_date=summary.last_date,
            hours=summary.hours,
            skipped_hours=summary.skipped_hours,
            average=summary.average,
            peak_average=summary.peak_average,
            off_peak_average=summary.off_peak_average,
            minimum=summary.minimum,
            maximum=summary.maximum,
            volatility=result.volatility,
            value_at_risk=result.value_at_risk,
            expected_shortfall=result.expected_shortfall,
            var95=result.var95,
            var99=result.var99,
            es95=result.es95,
            es99=result.es99,
        )

    @strawberry.field(extensions=[ScopeRequired("pricing:read")])
    def market_stress(
        self,
        market: str,
        period_from: dt.datetime,
        period_to: dt.datetime,
        scenario: StressScenario,
        params: JSON | None = None,
    ) -> MarketStress:
        """Baseline against stressed average, maximum and VaR95 of the period under a scenario."""
        check_period(period_from, period_to, fields=("periodFrom", "periodTo"), error=input_error)
        if params is not None and not isinstance(params, dict):
            raise api_error("params must be a JSON object.", BAD_USER_INPUT, field="params")
        summary = market_analytics.market_stress(
            market_code=market,
            period_from=period_from,
            period_to=period_to,
            scenario=scenario.value,
            params=params,
        )
        return MarketStress(
            market=summary["market_code"],
            currency=summary["currency"],
            scenario=scenario,
            params={k: v for k, v in summary["params"].items() if k != "timezone"},
            skipped_hours=summary["skipped_hours"],
            average=StressFigure(**summary["average"]),
            maximum=StressFigure(**summary["maximum"]),
            var95=StressFigure(**summary["var95"]),
        )

    @strawberry.field(extensions=[ScopeRequired("pricing:read")])
    def market_clear(self, offers: list[OrderInput], bids: list[OrderInput]) -> MarketClearing:
        """Clear offers against bids in merit order at one uniform price (a what-if; nothing is stored)."""
        result = services.market_clear(
            offers=[clearing.Order(o.price, o.volume, o.id) for o in offers],
            bids=[clearing.Order(b.price, b.volume, b.id) for b in bids],
        )
        return MarketClearing(
            price=result.price,
            volume=result.volume,
            crossed=result.crossed,
            accepted_offers=[OrderFill(id=f.id, volume=f.volume) for f in result.accepted_offers],
            accepted_bids=[OrderFill(id=f.id, volume=f.volume) for f in result.accepted_bids],
        )


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def market_prices_import(self, input: MarketPricesImportInput) -> IngestResult:
        """Store a market's prices; each rejected price is reported and not written. Idempotent."""
        if len(input.prices) > MAX_PRICES_PER_REQUEST:
            raise api_error(
                f"At most {MAX_PRICES_PER_REQUEST} prices per request.", BAD_USER_INPUT, field="prices"
            )
        result = services.market_prices_import(
            market_code=input.market,
            currency=input.currency,
            prices=[
                services.PriceInput(p.interval_start, p.interval_end, p.price_per_mwh) for p in input.prices
            ],
            now=timezone.now(),
        )
        return IngestResult.from_result(result)
