"""GraphQL mutations of the metering app."""

import strawberry
import strawberry_django
from django.utils import timezone

from core.api.errors import api_error
from core.api.permissions import ScopeRequired, principal_of
from core.api.types import IngestResult
from core.errors import BAD_USER_INPUT
from metering.blocks import parse_resolution
from metering.graphql.inputs import (
    MeterInstallInput,
    MeterPointCreateInput,
    ReadingsIngestBlocksInput,
    ReadingsIngestInput,
)
from metering.graphql.types import MeterPointType, MeterType
from metering.models import Source
from metering.services import meters
from metering.services import readings as services

MAX_READINGS_PER_REQUEST = 10_000
MAX_BLOCK_VALUES_PER_REQUEST = 500_000
MAX_BLOCKS_PER_REQUEST = 10_000


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("metering:write")])
    def meter_point_create(self, input: MeterPointCreateInput) -> MeterPointType:
        return meters.meter_point_create(
            identifier=input.identifier,
            timezone=input.timezone,
            feeder_code=input.feeder_code,
            region_code=input.region_code,
            heating_type=input.heating_type.upper(),  # the API names them in lower case
            residents=input.residents,
            has_pv=input.has_pv,
            has_battery=input.has_battery,
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("metering:write")])
    def meter_install(self, input: MeterInstallInput) -> MeterType:
        return meters.meter_install(
            meter_point_identifier=input.meter_point_identifier,
            serial=input.serial,
            direction=input.direction.value,
            installed_at=input.installed_at or timezone.now(),
            resolution_minutes=input.resolution_minutes,
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("metering:write")])
    def readings_ingest(self, info: strawberry.Info, input: ReadingsIngestInput) -> IngestResult:
        """Validate and store a meter's readings; each rejected reading is reported and not written."""
        if len(input.readings) > MAX_READINGS_PER_REQUEST:
            raise api_error(
                f"At most {MAX_READINGS_PER_REQUEST} readings per request.", BAD_USER_INPUT, field="readings"
            )
        result = services.readings_ingest_for_meter(
            meter_serial=input.meter_serial,
            readings=[services.ReadingInput(r.interval_start, r.interval_end, r.kwh) for r in input.readings],
            source=Source.GRAPHQL,
            now=timezone.now(),
            idempotency_key=input.idempotency_key,
            client=principal_of(info).client_key,
        )
        return IngestResult.from_result(result)

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("metering:write")])
    def readings_ingest_blocks(self, info: strawberry.Info, input: ReadingsIngestBlocksInput) -> IngestResult:
        """Validate and store interval blocks of any meters; each rejected value is reported (with its block
        and value index) and not written. Idempotent; send the blocks as a variable."""
        if len(input.blocks) > MAX_BLOCKS_PER_REQUEST:
            raise api_error(
                f"At most {MAX_BLOCKS_PER_REQUEST} blocks per request.", BAD_USER_INPUT, field="blocks"
            )
        blocks = []
        total = 0
        for index, block in enumerate(input.blocks):
            try:
                resolution_s = parse_resolution(block.resolution)
            except ValueError as exc:
                raise api_error(str(exc), BAD_USER_INPUT, field=f"blocks.{index}.resolution") from None
            total += len(block.values) if isinstance(block.values, list) else 0
            blocks.append(
                services.ReadingBlockInput(
                    meter_serial=block.meter_serial,
                    start=block.start,
                    resolution_s=resolution_s,
                    values=block.values,
                    qualities=block.qualities,
                )
            )
        if total > MAX_BLOCK_VALUES_PER_REQUEST:
            raise api_error(
                f"At most {MAX_BLOCK_VALUES_PER_REQUEST} values per request.", BAD_USER_INPUT, field="blocks"
            )
        result = services.readings_ingest_blocks(
            blocks=blocks,
            source=Source.GRAPHQL,
            now=timezone.now(),
            idempotency_key=input.idempotency_key,
            client=principal_of(info).client_key,
        )
        return IngestResult.from_result(result)
