"""GraphQL operations of the pricing app: tariffs, versions, pricing events and unit rates."""

from datetime import datetime

import strawberry
import strawberry_django
from strawberry.utils.str_converters import to_camel_case
from strawberry_django.fields.types import OperationInfo, OperationMessage

from core.api.permissions import ScopeRequired
from core.errors import DomainError
from pricing.graphql.tariff_types import (
    PricingEventDeclareInput,
    PricingEventType,
    TariffCreateInput,
    TariffType,
    TariffVersionPublishInput,
    TariffVersionType,
    UnitRateType,
)
from pricing.selectors import tariffs as selectors
from pricing.services import tariffs as services


def _operation_info(error: DomainError) -> OperationInfo:
    """A domain error as OperationInfo; input fields in camelCase, paths inside the document as written."""
    messages = []
    for field, errors in error.error_dict.items() if hasattr(error, "error_dict") else [(None, [error])]:
        shown = _graphql_field(field)
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


def _graphql_field(field: str | None) -> str | None:
    if field is None or field.startswith("document"):
        return field
    return to_camel_case(field)


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("pricing:read")])
    def tariff(self, code: str) -> TariffType | None:
        return selectors.tariff_get(code=code)

    @strawberry_django.field(extensions=[ScopeRequired("pricing:read")])
    def unit_rates(self, tariff_code: str, period_from: datetime, period_to: datetime) -> list[UnitRateType]:
        """The unit rate (before tax) of every interval in [periodFrom, periodTo), at most 400 days."""
        try:
            rates = selectors.unit_rates(
                tariff_code=tariff_code, period_from=period_from, period_to=period_to
            )
        except DomainError as exc:
            raise type(exc)(exc.messages[0], field=_graphql_field(exc.field), code=exc.code) from exc
        return [
            UnitRateType(
                valid_from=rate.valid_from,
                valid_to=rate.valid_to,
                value_per_kwh=rate.value_per_kwh,
                band=rate.band,
            )
            for rate in rates
        ]


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def tariff_create(self, input: TariffCreateInput) -> TariffType:
        try:
            return services.tariff_create(code=input.code, name=input.name, direction=input.direction.value)
        except DomainError as exc:
            return _operation_info(exc)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def tariff_version_publish(self, input: TariffVersionPublishInput) -> TariffVersionType:
        """Publish a tariff version; a published version never changes (publish a later one instead)."""
        try:
            return services.tariff_version_publish(
                tariff_code=input.tariff_code,
                valid_from=input.valid_from,
                valid_to=input.valid_to,
                document=input.document,
            )
        except DomainError as exc:
            return _operation_info(exc)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("pricing:write")])
    def pricing_event_declare(self, input: PricingEventDeclareInput) -> PricingEventType:
        try:
            return services.pricing_event_declare(
                kind=input.kind.value, start=input.start, end=input.end, tariff_codes=input.tariff_codes
            )
        except DomainError as exc:
            return _operation_info(exc)
