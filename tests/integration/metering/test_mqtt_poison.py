"""Poison messages through a real broker into PostgreSQL (issue 10 item 7): each is refused with a reject note
and a dead-letter row and acknowledged, and the ingest carries on. RELIABILITY.md check 36 (oversized payloads
rejected, a forged serial dropped and alerted) and check 32 (malformed input rejected with a rule id)."""

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.models import MqttDeadLetter, Reading
from metering.mqtt import consumer as metering_mqtt
from tests.brokers import wait_until
from tests.integration.metering.mqtt_support import in_process, stored

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DAY = datetime(2024, 3, 1, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


def reading(slot: int, kwh: str = "0.5", **extra) -> dict:
    start = DAY + slot * HALF_HOUR
    return {
        "intervalStart": start.isoformat(),
        "intervalEnd": (start + HALF_HOUR).isoformat(),
        "kwh": kwh,
        **extra,
    }


def test_poison_messages_are_dead_lettered_noted_and_acknowledged_and_ingest_carries_on(
    session, publisher, meters, caplog, admin_client
):
    """Check 36 and 32: `'[' * 100000 + ']' * 100000`, bad UTF-8, wrong shapes, an oversized payload and a
    forged serial never stop `mqtt_ingest`; the good reading after them is stored."""
    serial, other = meters
    consumer = in_process(session)  # MQTT_MAX_PAYLOAD_BYTES: 256 KiB
    poison = {
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "utf8": b'{"kwh": "\xff"}',
        "shape": b"[[1], 2]",
        "types": json.dumps(reading(0, kwh=["1"])).encode(),
        "oversized": json.dumps([reading(0)] * 2_600).encode(),  # ≈ 280 KB
        "forged": json.dumps(reading(0, serial=other)).encode(),
    }
    for payload in poison.values():
        publisher.publish(serial, payload)
    publisher.publish(serial, reading(1, "1.25"))

    wait_until(lambda: len(stored(serial)) == 1, what="the good reading after the poison")
    notes = [publisher.note()[1]["rejected"][0]["code"] for _ in poison]
    assert sorted(notes) == sorted(["malformed_payload"] * 4 + ["payload_too_large", "serial_mismatch"])
    assert consumer.runner.is_alive()
    stats = consumer.stop()
    assert stats.messages == 7
    assert stats.malformed == 6
    assert stored(serial)[DAY + HALF_HOUR].energy_kwh == Decimal("1.25")
    assert not Reading.objects.filter(meter__serial=other).exists()

    letters = {letter.code: letter for letter in MqttDeadLetter.objects.all()}
    assert sorted(MqttDeadLetter.objects.values_list("code", flat=True)) == sorted(notes)
    assert {letter.serial for letter in letters.values()} == {serial}
    deep = MqttDeadLetter.objects.get(payload_bytes=200_000)
    assert bytes(deep.payload) == poison["deep"]  # kept whole to inspect or replay (under the limit)
    oversized = letters["payload_too_large"]
    assert len(poison["oversized"]) > 256 * 1024
    assert oversized.payload_bytes == len(poison["oversized"])
    assert len(bytes(oversized.payload)) == 4096  # the head only
    assert "ALERT possible forged reading" in caplog.text

    page = admin_client.get("/admin/metering/mqttdeadletter/")
    assert page.status_code == 200
    assert b"serial_mismatch" in page.content
    metrics = admin_client.get("/metrics").content.decode()
    assert 'metering_mqtt_dead_letters{code="malformed_payload"} 4.0' in metrics
    assert 'metering_mqtt_dead_letters{code="serial_mismatch"} 1.0' in metrics

    # All were acknowledged: the same session gets nothing again.
    again = in_process(session, max_seconds=1.5)
    again.runner.join(10)
    assert again.stop().messages == 0


def test_a_message_the_store_fails_on_is_dead_lettered_and_the_rest_of_its_batch_is_stored(
    session, publisher, meters, monkeypatch, caplog
):
    """Check 32: an input that makes the store itself fail (a bug) parks that one message, not the ingest."""
    caplog.set_level(logging.ERROR, logger="metering.mqtt")
    real_store = metering_mqtt.mqtt_batch_store

    def store_failing_on_66_66(**kwargs):
        if 666_600 in kwargs["readings"].kwh_e4.tolist():
            raise ValueError("an unforeseen input")
        return real_store(**kwargs)

    monkeypatch.setattr(metering_mqtt, "mqtt_batch_store", store_failing_on_66_66)
    serial = meters[0]
    consumer = in_process(session, batch_ms=500)  # the three messages arrive in one batch

    publisher.publish(serial, reading(0, "1"))
    publisher.publish(serial, reading(1, "66.66"))
    publisher.publish(serial, reading(2, "3"))
    wait_until(lambda: MqttDeadLetter.objects.exists(), what="the dead letter")

    stats = consumer.stop()
    assert sorted(r.energy_kwh for r in stored(serial).values()) == [Decimal(1), Decimal(3)]
    (letter,) = MqttDeadLetter.objects.all()
    assert (letter.code, json.loads(bytes(letter.payload))["kwh"]) == ("ingest_failed", "66.66")
    assert publisher.note()[1]["rejected"][0]["code"] == "ingest_failed"
    assert stats.messages == 3
    assert "storing them one by one" in caplog.text
