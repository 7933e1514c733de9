"""GraphQL operations of the pricing app: dynamic price publications and the ledger.

Thin adapters: parse input, one service or selector call, map the result.
"""

from datetime import date, datetime
from decimal import Decimal

import strawberry
import strawberry_django
from django.utils import timezone

from core.api.permissions import ScopeRequired
from pricing.models import PublishedRate, RatePublication
from pricing.selectors import ledger as ledger_selectors
from pricing.services import dynamic as dynamic_services


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


@strawberry.input
class DynamicPricesPublishInput:
    tariff_code: str
    day: date


def _interval(rate: PublishedRate, revision: int) -> PublishedInterval:
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


def _intervals(publication: RatePublication) -> list[PublishedInterval]:
    rates = ledger_selectors.published_rate_list(publication=publication)
    return [_interval(rate, publication.revision) for rate in rates]


@strawberry.type
class Query:
    @strawberry.field(extensions=[ScopeRequired("pricing:read")])
    def published_rates(self, tariff_code: str, day: date) -> list[PublishedInterval]:
        """The latest revision of a dynamic tariff's published rates for a local day, with breakdowns
        (wholesale price, multiplier, margin): staff and API clients only. Customers read their own rates,
        without breakdowns, as `me { publishedRates(day) }`."""
        publication = ledger_selectors.publication_latest(tariff_code=tariff_code, day=day)
        return [] if publication is None else _intervals(publication)

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


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def dynamic_prices_publish(self, input: DynamicPricesPublishInput) -> RatePublicationType:
        """Price and publish a local day of a dynamic tariff; identical content is not published twice."""
        outcome = dynamic_services.dynamic_prices_publish(
            tariff_code=input.tariff_code, day=input.day, now=timezone.now()
        )
        publication = outcome.publication
        return RatePublicationType(
            tariff_code=input.tariff_code,
            day=publication.day,
            revision=publication.revision,
            created=outcome.created,
            published_at=publication.published_at,
            content_sha256=publication.content_sha256,
            ledger_sequence=outcome.ledger_entry.sequence,
            intervals=_intervals(publication),
        )
