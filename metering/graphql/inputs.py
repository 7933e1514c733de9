"""GraphQL inputs of the metering app."""

from datetime import datetime
from decimal import Decimal

import strawberry

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


@strawberry.input
class ReadingsIngestInput:
    meter_serial: str
    readings: list[ReadingInput]
    idempotency_key: str | None = None
