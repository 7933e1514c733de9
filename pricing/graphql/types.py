"""GraphQL types of the pricing app: tariffs, versions, events, unit rates, markets, analytics, ledger."""

import datetime as dt
import enum
from datetime import date, datetime
from decimal import Decimal

import strawberry
import strawberry_django
from strawberry import auto
from strawberry.scalars import JSON

from pricing import models
from pricing.models import PublishedRate, RatePublication
from pricing.selectors import ledger as ledger_selectors


@strawberry.enum
class TariffDirection(enum.Enum):
    IMPORT = models.TariffDirection.IMPORT.value
    EXPORT = models.TariffDirection.EXPORT.value


@strawberry.enum
class PricingEventKind(enum.Enum):
    CRITICAL_PEAK = models.PricingEvent.Kind.CRITICAL_PEAK.value
    EMERGENCY = models.PricingEvent.Kind.EMERGENCY.value


@strawberry_django.type(models.TariffVersion, name="TariffVersion")
class TariffVersionType:
    valid_from: auto
    valid_to: auto
    kind: auto
    document_sha256: auto
    published_at: auto

    @strawberry_django.field(only=["document"])
    def document(self) -> JSON:
        return self.document


@strawberry_django.type(models.Tariff, name="Tariff")
class TariffType:
    code: auto
    name: auto

    @strawberry_django.field(only=["direction"])
    def direction(self) -> TariffDirection:
        return TariffDirection(self.direction)

    @strawberry_django.field(prefetch_related=["versions"])
    def versions(self) -> list[TariffVersionType]:
        """Every published version, oldest first."""
        return sorted(self.versions.all(), key=lambda version: (version.valid_from, version.pk))


@strawberry_django.type(models.PricingEvent, name="PricingEvent")
class PricingEventType:
    start: auto
    end: auto
    declared_at: auto

    @strawberry_django.field(only=["kind"])
    def kind(self) -> PricingEventKind:
        return PricingEventKind(self.kind)

    @strawberry_django.field(prefetch_related=["tariffs"])
    def tariff_codes(self) -> list[str]:
        return sorted(tariff.code for tariff in self.tariffs.all())


@strawberry.type(name="UnitRate")
class UnitRateType:
    """The unit rate of one interval, before tax; `band` is the TOU period, tier, event kind or kind."""

    valid_from: datetime
    valid_to: datetime
    value_per_kwh: Decimal
    band: str
    currency: str = strawberry.field(description="ISO 4217 currency of valuePerKwh (the tariff document's).")


@strawberry_django.type(models.Market, name="Market")
class MarketType:
    """A wholesale market: its prices are per MWh in `currency`, in intervals of `intervalMinutes`."""

    code: auto
    name: auto
    currency: auto
    timezone: auto
    interval_minutes: int
    day_ahead_results_at: dt.time
    feed_adapter: auto

    @strawberry_django.field(only=["feed_config"])
    def feed_config(self) -> JSON:
        return self.feed_config


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


@strawberry.type(name="PriceBreakdownStep")
class PriceBreakdownStep:
    """What one pricing rule contributed to an interval's rate."""

    rule: str
    per_kwh: Decimal
    note: str


@strawberry.type(name="PublishedInterval")
class PublishedInterval:
    """One interval's published dynamic rate and why it is what it is."""

    interval_start: datetime
    interval_end: datetime
    rate_per_kwh: Decimal
    revision: int
    breakdown: list[PriceBreakdownStep]


@strawberry.type(name="RatePublication")
class RatePublicationType:
    tariff_code: str
    day: date
    revision: int
    created: bool = strawberry.field(description="False when identical content had already been published.")
    published_at: datetime
    content_sha256: str
    ledger_sequence: int
    intervals: list[PublishedInterval]


@strawberry.type(name="PriceLedgerReport")
class PriceLedgerReport:
    entries_checked: int
    ok: bool
    first_broken_sequence: int | None
    reason: str | None


def published_interval(rate: PublishedRate, revision: int) -> PublishedInterval:
    return PublishedInterval(
        interval_start=rate.interval_start,
        interval_end=rate.interval_end,
        rate_per_kwh=rate.rate_per_kwh,
        revision=revision,
        breakdown=[
            PriceBreakdownStep(rule=step["rule"], per_kwh=Decimal(step["per_kwh"]), note=step.get("note", ""))
            for step in rate.breakdown
        ],
    )


def published_intervals(publication: RatePublication) -> list[PublishedInterval]:
    rates = ledger_selectors.published_rate_list(publication=publication)
    return [published_interval(rate, publication.revision) for rate in rates]
