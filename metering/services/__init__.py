"""Writes and domain operations of the metering app.

`readings`: meter points, meters and every reading ingest path; `vee`: validation-estimation-editing
against each meter's history; `aggregates`: per feeder and region load.
"""

from metering.services.readings import (
    IdempotencyKeyReused,
    IngestResult,
    ReadingInput,
    UnableToCreateMeterPoint,
    UnableToInstallMeter,
    meter_install,
    meter_point_create,
    readings_from_inputs,
    readings_ingest,
    readings_ingest_for_meter,
)

__all__ = [
    "IdempotencyKeyReused",
    "IngestResult",
    "ReadingInput",
    "UnableToCreateMeterPoint",
    "UnableToInstallMeter",
    "meter_install",
    "meter_point_create",
    "readings_from_inputs",
    "readings_ingest",
    "readings_ingest_for_meter",
]
