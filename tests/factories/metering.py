"""Helpers that build metering data through the services (the same path production uses)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from metering.models import Source
from metering.services.meters import meter_install, meter_point_create
from metering.services.readings import ReadingInput, readings_from_inputs, readings_ingest

INSTALLED = datetime(2020, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make_meter(
    serial: str,
    *,
    timezone: str = "Europe/London",
    direction: str = "IMPORT",
    feeder: str = "F1",
    region: str = "R1",
    resolution: int = 30,
    installed_at: datetime = INSTALLED,
):
    point = meter_point_create(
        identifier=f"MP-{serial}", timezone=timezone, feeder_code=feeder, region_code=region
    )
    return meter_install(
        meter_point_identifier=point.identifier,
        serial=serial,
        direction=direction,
        installed_at=installed_at,
        resolution_minutes=resolution,
    )


def half_hours(start: datetime, count: int, kwh="0.1000", minutes: int = 30) -> list[ReadingInput]:
    values = kwh if isinstance(kwh, list) else [kwh] * count
    return [
        ReadingInput(
            start + timedelta(minutes=minutes * i),
            start + timedelta(minutes=minutes * (i + 1)),
            Decimal(str(values[i])),
        )
        for i in range(count)
    ]


def ingest(meter, readings: list[ReadingInput], *, now: datetime = NOW, **kwargs):
    return readings_ingest(
        readings=readings_from_inputs(meter.pk, readings), source=Source.GRAPHQL, now=now, **kwargs
    )
