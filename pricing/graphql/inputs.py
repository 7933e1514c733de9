"""GraphQL inputs of the pricing app."""

import datetime as dt
from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from pricing.graphql.types import PricingEventKind, TariffDirection


@strawberry.input
class TariffCreateInput:
    code: str
    name: str
    direction: TariffDirection


@strawberry.input
class TariffVersionPublishInput:
    tariff_code: str
    valid_from: datetime
    document: JSON
    valid_to: datetime | None = None


@strawberry.input
class PricingEventDeclareInput:
    kind: PricingEventKind
    start: datetime
    end: datetime
    tariff_codes: list[str]


@strawberry.input
class MarketCreateInput:
    code: str
    currency: str
    timezone: str
    day_ahead_results_at: dt.time
    interval_minutes: int = 60
    name: str = ""
    feed_adapter: str = "file"
    feed_config: JSON | None = None


@strawberry.input
class MarketUpdateInput:
    """The market `code` and the attributes to change; those not given stay as they are."""

    code: str
    name: str | None = None
    currency: str | None = None
    timezone: str | None = None
    interval_minutes: int | None = None
    day_ahead_results_at: dt.time | None = None
    feed_adapter: str | None = None
    feed_config: JSON | None = None


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


@strawberry.input
class DynamicPricesPublishInput:
    tariff_code: str
    day: date
