"""GraphQL queries of the pricing app: tariffs, unit rates, markets, analytics, the ledger."""

import datetime as dt
from datetime import date, datetime

import strawberry
import strawberry_django
from strawberry.scalars import JSON

from core.api.errors import api_error, api_field_name, input_error, not_found
from core.api.permissions import ScopeRequired
from core.errors import BAD_USER_INPUT, DomainError
from core.periods import check_period
from pricing import clearing
from pricing.graphql.inputs import OrderInput
from pricing.graphql.types import (
    MarketAnalytics,
    MarketClearing,
    MarketPriceType,
    MarketStress,
    OrderFill,
    PriceLedgerReport,
    PublishedInterval,
    StressFigure,
    StressScenario,
    TariffType,
    UnitRateType,
    published_intervals,
)
from pricing.selectors import ledger as ledger_selectors
from pricing.selectors import market_analytics
from pricing.selectors import markets as market_selectors
from pricing.selectors import tariffs as tariff_selectors
from pricing.services import markets as market_services

MAX_PRICE_PERIOD = dt.timedelta(days=93)


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("pricing:read")])
    def tariff(self, code: str) -> TariffType | None:
        tariff = tariff_selectors.tariff_get(code=code)
        if tariff is None:
            raise not_found(f"No tariff '{code}'.", field="code")
        return tariff

    @strawberry_django.field(extensions=[ScopeRequired("pricing:read")])
    def unit_rates(self, tariff_code: str, period_from: datetime, period_to: datetime) -> list[UnitRateType]:
        """The unit rate (before tax) of every interval in [periodFrom, periodTo), at most 400 days."""
        try:
            rates = tariff_selectors.unit_rates(
                tariff_code=tariff_code, period_from=period_from, period_to=period_to
            )
        except DomainError as exc:
            raise type(exc)(exc.messages[0], field=api_field_name(exc.field), code=exc.code) from exc
        return [
            UnitRateType(
                valid_from=rate.valid_from,
                valid_to=rate.valid_to,
                value_per_kwh=rate.value_per_kwh,
                band=rate.band,
                currency=rate.currency,
            )
            for rate in rates
        ]

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
        found = market_selectors.market_get(code=market)
        if found is None:
            raise not_found(f"No market '{market}'.", field="market")
        return market_selectors.market_price_list(market=found, period_from=period_from, period_to=period_to)

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
        result = market_services.market_clear(
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

    @strawberry.field(extensions=[ScopeRequired("pricing:read")])
    def published_rates(self, tariff_code: str, day: date) -> list[PublishedInterval]:
        """The latest revision of a dynamic tariff's published rates for a local day, with breakdowns
        (wholesale price, multiplier, margin): staff and API clients only. Customers read their own rates,
        without breakdowns, as `me { publishedRates(day) }`."""
        if tariff_selectors.tariff_get(code=tariff_code) is None:
            raise not_found(f"No tariff '{tariff_code}'.", field="tariffCode")
        publication = ledger_selectors.publication_latest(tariff_code=tariff_code, day=day)
        return [] if publication is None else published_intervals(publication)

    @strawberry.field(extensions=[ScopeRequired("pricing:read")])
    def price_ledger_verify(self) -> PriceLedgerReport:
        """Recompute every publication's hash and walk the ledger chain; report the first broken entry."""
        report = ledger_selectors.ledger_verify()
        broken = report.first_broken
        return PriceLedgerReport(
            entries_checked=report.entries_checked,
            ok=report.ok,
            first_broken_sequence=broken.sequence if broken else None,
            reason=broken.reason if broken else None,
        )
