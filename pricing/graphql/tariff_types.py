"""GraphQL types and inputs of the pricing app: tariffs, versions, events, unit rates."""

import enum
from datetime import datetime
from decimal import Decimal

import strawberry
import strawberry_django
from strawberry import auto
from strawberry.scalars import JSON

from pricing import models


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
