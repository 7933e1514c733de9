"""GraphQL inputs of the metering app."""

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from metering.graphql.types import Direction


@strawberry.input
class MeterPointCreateInput:
    identifier: str
    timezone: str = "Europe/London"
    feeder_code: str = ""
    region_code: str = ""
    heating_type: str = "gas"  # the API's lower-case name of models.HeatingType.GAS
    residents: int = 2
    has_pv: bool = False
    has_battery: bool = False


@strawberry.input
class MeterInstallInput:
    meter_point_identifier: str
    serial: str
    direction: Direction
    installed_at: datetime | None = None
    resolution_minutes: int = 30


@strawberry.input
class ReadingInput:
    interval_start: datetime
    interval_end: datetime
    kwh: Decimal


@strawberry.input(
    description=(
        "One meter's consecutive intervals in the shape of an ESPI / Green Button IntervalBlock: "
        "value i covers [start + i·resolution, start + (i+1)·resolution)."
    )
)
class ReadingBlockInput:
    meter_serial: str
    start: datetime
    resolution: JSON = strawberry.field(
        description='Seconds (1800) or an ISO 8601 duration ("PT30M"); must equal the meter\'s resolution.'
    )
    values: JSON = strawberry.field(
        description='kWh per interval: a list of decimal strings ("0.1234", at most 4 decimals) or numbers.'
    )
    qualities: JSON | None = strawberry.field(
        default=None,
        description="Optional: ACTUAL, ESTIMATED or SUBSTITUTED per value (default ACTUAL).",
    )


@strawberry.input
class ReadingsIngestBlocksInput:
    blocks: list[ReadingBlockInput]
    idempotency_key: str | None = None


@strawberry.input
class ReadingsIngestInput:
    meter_serial: str
    readings: list[ReadingInput]
    idempotency_key: str | None = None
