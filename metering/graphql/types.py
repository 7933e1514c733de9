"""GraphQL types of the metering app."""

import enum
from datetime import datetime
from decimal import Decimal

import strawberry
import strawberry_django
from strawberry import auto
from strawberry.types import Info

from core.api.errors import api_error, input_error
from core.errors import BAD_USER_INPUT
from core.periods import check_period
from metering import models
from metering.selectors import readings as selectors


@strawberry.enum
class Direction(enum.Enum):
    IMPORT = "IMPORT"
    EXPORT = "EXPORT"
    GENERATION = "GEN"  # a PV generation meter (not billed; prosumer self-sufficiency)


@strawberry.enum
class ReadingQuality(enum.Enum):
    ACTUAL = models.Quality.ACTUAL
    ESTIMATED = models.Quality.ESTIMATED
    SUBSTITUTED = models.Quality.SUBSTITUTED


@strawberry.enum
class GroupBy(enum.Enum):
    HALF_HOUR = "HALF_HOUR"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"


@strawberry.type
class ReadingValue:
    """Energy over [intervalStart, intervalEnd): one reading interval or a local hour/day/month."""

    interval_start: datetime
    interval_end: datetime
    kwh: Decimal
    quality: ReadingQuality
    reading_count: int


@strawberry_django.type(models.Meter, name="Meter")
class MeterType:
    serial: auto
    resolution_minutes: auto
    installed_at: auto
    removed_at: auto

    @strawberry_django.field(only=["direction"])
    def direction(self) -> Direction:
        return Direction(self.direction)


@strawberry_django.type(models.MeterPoint, name="MeterPoint")
class MeterPointType:
    identifier: auto
    timezone: auto
    feeder_code: auto
    region_code: auto
    residents: auto
    has_pv: auto
    has_battery: auto
    meters: list[MeterType]

    @strawberry_django.field(only=["heating_type"])
    def heating_type(self) -> str:
        """The API keeps the lower-case names it has always given (`gas`, `heat_pump`, …)."""
        return str(self.heating_type).lower()

    @strawberry_django.field(only=["timezone"])
    def readings(
        self,
        info: Info,
        period_from: datetime,
        period_to: datetime,
        group_by: GroupBy = GroupBy.HALF_HOUR,
        direction: Direction = Direction.IMPORT,
        after: datetime | None = None,
        first: int = selectors.MAX_BUCKETS,
    ) -> list[ReadingValue]:
        """Readings in [periodFrom, periodTo), grouped in the meter point's local time; page with `after`."""
        check_period(period_from, period_to, fields=("periodFrom", "periodTo"), error=input_error)
        if not 1 <= first <= selectors.MAX_BUCKETS:
            raise api_error(f"first must be 1..{selectors.MAX_BUCKETS}.", BAD_USER_INPUT, field="first")
        try:
            buckets = selectors.reading_series(
                meter_point=self,
                period_from=period_from,
                period_to=period_to,
                group_by=group_by.value,
                direction=direction.value,
                after=after,
                limit=first,
            )
        except selectors.PeriodTooLong as exc:
            raise api_error(str(exc), BAD_USER_INPUT, field="periodTo") from exc
        return [
            ReadingValue(
                interval_start=b.interval_start,
                interval_end=b.interval_end,
                kwh=b.kwh,
                quality=ReadingQuality(b.quality),
                reading_count=b.reading_count,
            )
            for b in buckets
        ]
