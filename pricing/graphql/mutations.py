"""GraphQL mutations of the pricing app."""

import strawberry
import strawberry_django
from django.utils import timezone
from strawberry_django.fields.types import OperationInfo, OperationMessage

from core.api.errors import api_error, api_field_name
from core.api.permissions import ScopeRequired
from core.api.types import IngestResult
from core.errors import BAD_USER_INPUT, DomainError
from pricing.graphql.inputs import (
    DynamicPricesPublishInput,
    MarketCreateInput,
    MarketPricesImportInput,
    MarketUpdateInput,
    PricingEventDeclareInput,
    TariffCreateInput,
    TariffVersionPublishInput,
)
from pricing.graphql.types import (
    MarketType,
    PricingEventType,
    RatePublicationType,
    TariffType,
    TariffVersionType,
    published_intervals,
)
from pricing.services import dynamic as dynamic_services
from pricing.services import markets as market_services
from pricing.services import tariffs as tariff_services

MAX_PRICES_PER_REQUEST = 10_000


def _operation_info(error: DomainError) -> OperationInfo:
    """A domain error as OperationInfo; input fields in camelCase, paths inside the document as written."""
    messages = []
    for field, errors in error.error_dict.items() if hasattr(error, "error_dict") else [(None, [error])]:
        shown = api_field_name(field)
        for item in errors:
            messages.extend(
                OperationMessage(
                    kind=OperationMessage.Kind.VALIDATION,
                    field=shown,
                    message=message,
                    code=getattr(item, "code", None) or error.code,
                )
                for message in item.messages
            )
    return OperationInfo(messages=messages)


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def tariff_create(self, input: TariffCreateInput) -> TariffType:
        try:
            return tariff_services.tariff_create(
                code=input.code, name=input.name, direction=input.direction.value
            )
        except DomainError as exc:
            return _operation_info(exc)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def tariff_version_publish(self, input: TariffVersionPublishInput) -> TariffVersionType:
        """Publish a tariff version; a published version never changes (publish a later one instead)."""
        try:
            return tariff_services.tariff_version_publish(
                tariff_code=input.tariff_code,
                valid_from=input.valid_from,
                valid_to=input.valid_to,
                document=input.document,
                now=timezone.now(),
            )
        except DomainError as exc:
            return _operation_info(exc)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def pricing_event_declare(self, input: PricingEventDeclareInput) -> PricingEventType:
        try:
            return tariff_services.pricing_event_declare(
                kind=input.kind.value,
                start=input.start,
                end=input.end,
                tariff_codes=input.tariff_codes,
                now=timezone.now(),
            )
        except DomainError as exc:
            return _operation_info(exc)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def market_create(self, input: MarketCreateInput) -> MarketType:
        """Create a wholesale market; the same request again returns it unchanged."""
        try:
            return market_services.market_create(**_market_attributes(input))
        except DomainError as exc:
            return _operation_info(exc)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def market_update(self, input: MarketUpdateInput) -> MarketType:
        """Change a market's attributes; currency, zone and interval only while it has no prices."""
        try:
            return market_services.market_update(**_market_attributes(input))
        except DomainError as exc:
            return _operation_info(exc)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def market_prices_import(self, input: MarketPricesImportInput) -> IngestResult:
        """Store a market's prices; each rejected price is reported and not written. Idempotent."""
        if len(input.prices) > MAX_PRICES_PER_REQUEST:
            raise api_error(
                f"At most {MAX_PRICES_PER_REQUEST} prices per request.", BAD_USER_INPUT, field="prices"
            )
        result = market_services.market_prices_import(
            market_code=input.market,
            currency=input.currency,
            prices=[
                market_services.PriceInput(p.interval_start, p.interval_end, p.price_per_mwh)
                for p in input.prices
            ],
            now=timezone.now(),
        )
        return IngestResult.from_result(result)

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
            intervals=published_intervals(publication),
        )


MARKET_ATTRIBUTES = (
    "code",
    "name",
    "currency",
    "timezone",
    "interval_minutes",
    "day_ahead_results_at",
    "feed_adapter",
    "feed_config",
)


def _market_attributes(input: MarketCreateInput | MarketUpdateInput) -> dict:
    """The market attributes of a create or update input, as the market services take them."""
    return {name: getattr(input, name) for name in MARKET_ATTRIBUTES}
