"""Writes of the MQTT ingest: a batch of readings and the messages refused as a whole, in one transaction."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from core.results import IngestResult
from metering.models import MqttDeadLetter, Source
from metering.services.readings import readings_ingest
from metering.validation import ReadingArrays

DEAD_LETTER_KEEP_BYTES = 4096  # of an oversized payload; the others are kept whole


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    serial: str | None
    code: str
    reason: str
    payload: bytes


@transaction.atomic
def mqtt_batch_store(
    *, readings: ReadingArrays, dead_letters: list[DeadLetter], max_payload_bytes: int, now: datetime
) -> IngestResult:
    """Ingest the readings of a batch (source MQTT) and record its refused messages, all or nothing."""
    result = IngestResult()
    if len(readings):
        result = readings_ingest(readings=readings, source=Source.MQTT, now=now)
    mqtt_dead_letters_record(dead_letters=dead_letters, max_payload_bytes=max_payload_bytes, now=now)
    return result


@transaction.atomic
def mqtt_dead_letters_record(*, dead_letters: list[DeadLetter], max_payload_bytes: int, now: datetime) -> int:
    """One row per refused message; a payload over `max_payload_bytes` keeps its first 4 KiB and its hash."""
    rows = [
        MqttDeadLetter(
            received_at=now,
            topic=letter.topic[:512],
            serial=(letter.serial or "")[:64],
            code=letter.code[:32],
            reason=letter.reason[:300],
            payload=letter.payload
            if len(letter.payload) <= max_payload_bytes
            else letter.payload[:DEAD_LETTER_KEEP_BYTES],
            payload_bytes=len(letter.payload),
            payload_sha256=hashlib.sha256(letter.payload).hexdigest(),
        )
        for letter in dead_letters
    ]
    MqttDeadLetter.objects.bulk_create(rows)
    return len(rows)
