"""MQTT telemetry: the payload parser, and the consumer end to end through the real broker into PostgreSQL,
as `manage.py mqtt_ingest` in a subprocess or, for fault injection and quick restarts, in a thread.

The end-to-end tests need Mosquitto at MQTT_URL (default 127.0.0.1:1883; in CI the project's configuration,
see tests/brokers.py) and PostgreSQL; a closed broker port skips them, or fails them under REQUIRE_SERVICES=1.
Each test uses its own client id, and removes its session from the broker afterwards.
"""

import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import OperationalError

from core.results import IngestResult
from metering.models import Quality, Reading, ReadingRevision, Source
from metering.mqtt import consumer as metering_mqtt
from metering.mqtt.messages import payload_parse, readings_from_messages, reject_notes
from metering.validation import Reject
from tests.brokers import Publisher, encode, wait_until
from tests.integration.metering.mqtt_support import Session, in_process, install_meters, start, stored

DAY = datetime(2024, 3, 1, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


def reading(slot: int, kwh: str = "0.1234", **extra) -> dict:
    start = DAY + slot * HALF_HOUR
    return {
        "intervalStart": start.isoformat().replace("+00:00", "Z"),
        "intervalEnd": (start + HALF_HOUR).isoformat(),
        "kwh": kwh,
        **extra,
    }


# --- The payload parser (no broker, no database) --------------------------------------------------------


def parse(*messages: tuple[str, bytes], ids: dict[str, int] | None = None):
    known = {"M1": 11, "M2": 12} if ids is None else ids
    return readings_from_messages(
        messages, meter_ids=lambda serials: {s: known[s] for s in serials if s in known}
    )


def test_an_object_becomes_one_exact_reading_of_the_topics_meter():
    batch = parse(("meters/M1/readings", encode(reading(0, "0.1234"))))

    assert batch.errors == {}
    assert batch.readings.meter_id.tolist() == [11]
    assert batch.readings.kwh_e4.tolist() == [1234]
    assert batch.readings.kwh_reject.tolist() == [0]
    assert batch.readings.start[0] == np.datetime64("2024-03-01T00:00:00")
    assert batch.readings.end[0] == np.datetime64("2024-03-01T00:30:00")


def test_a_list_becomes_one_row_per_reading_and_messages_share_one_array():
    batch = parse(
        ("meters/M1/readings", encode([reading(0, "1"), reading(1, "2.5"), reading(2, 3)])),
        ("meters/M2/readings", encode(reading(0, "0.0001"))),
        ("meters/UNKNOWN/readings", encode(reading(0))),
    )

    assert batch.errors == {}
    assert batch.readings.meter_id.tolist() == [11, 11, 11, 12, -1]
    assert batch.readings.kwh_e4.tolist() == [10_000, 25_000, 30_000, 1, 1234]
    assert batch.message_of_row.tolist() == [0, 0, 0, 1, 2]
    assert batch.position_in_message.tolist() == [0, 1, 2, 0, 0]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "empty list"),
        (b'"0.5"', "JSON object"),
        (encode({"intervalStart": "2024-03-01T00:00:00Z", "kwh": "1"}), "missing intervalEnd"),
        (encode([reading(0), {"kwh": "1"}]), "reading 1: missing intervalStart, intervalEnd"),
        (encode(reading(0, 0.5)), "decimal string"),  # a JSON float: rejected, not rounded
        (b'{"intervalStart": "2024-03-01T00:00:00Z", "intervalEnd": "x", "kwh": NaN}', "NaN"),
        (encode(reading(0, True)), "decimal string"),
        (encode(reading(0, None)), "decimal string"),
        (encode({**reading(0), "intervalStart": 1709251200}), "ISO 8601 strings"),
    ],
)
def test_a_malformed_message_is_reported_with_its_reason_and_yields_no_rows(payload, reason):
    batch = parse(("meters/M1/readings", payload), ("meters/M2/readings", encode(reading(0))))

    assert list(batch.errors) == [0]
    assert reason in batch.errors[0].reason
    assert batch.readings.meter_id.tolist() == [12]  # the other message is unaffected


@pytest.mark.parametrize(
    ("kwh", "reject"),
    [
        ("NaN", Reject.INVALID_NUMBER),
        ("Infinity", Reject.INVALID_NUMBER),
        ("abc", Reject.INVALID_NUMBER),
        ("1e12", Reject.INVALID_NUMBER),
        ("0.00001", Reject.TOO_PRECISE),
    ],
)
def test_an_unusable_kwh_string_is_left_to_validation_with_its_reject_code(kwh, reject):
    batch = parse(("meters/M1/readings", encode(reading(0, kwh))))

    assert batch.errors == {}
    assert batch.readings.kwh_reject.tolist() == [reject]


def test_timestamps_without_offset_or_unparsable_become_invalid_timestamps():
    batch = parse(
        ("meters/M1/readings", encode({**reading(0), "intervalStart": "2024-03-01T00:00:00"})),
        ("meters/M1/readings", encode({**reading(1), "intervalEnd": "yesterday"})),
    )

    assert batch.errors == {}
    assert np.isnat(batch.readings.start[0])
    assert np.isnat(batch.readings.end[1])


def test_only_readings_topics_under_the_root_carry_readings():
    batch = readings_from_messages(
        [
            ("acme/meters/M1/readings", encode(reading(0))),
            ("acme/meters/M1/rejected", encode(reading(0))),
            ("meters/M1/readings", encode(reading(0))),
            ("acme/meters/M1/x/readings", encode(reading(0))),
        ],
        meter_ids=lambda serials: {"M1": 11},
        topic_root="acme/meters",
    )

    assert batch.readings.meter_id.tolist() == [11]
    assert sorted(batch.errors) == [1, 2, 3]
    assert "is not acme/meters/<serial>/readings" in batch.errors[2].reason


def test_the_later_message_wins_when_a_batch_holds_one_interval_twice():
    batch = parse(
        ("meters/M1/readings", encode(reading(0, "1.0"))),
        ("meters/M1/readings", encode(reading(0, "2.0"))),
        ("meters/M1/readings", encode(reading(0, "2.0"))),
        ("meters/M2/readings", encode(reading(0, "1.0"))),
    )

    assert batch.readings.kwh_e4.tolist() == [20_000, 10_000]
    assert batch.message_of_row.tolist() == [2, 3]
    assert batch.superseded == 2
    assert batch.repeated == 1  # message 1 repeated the winning value; message 0 was replaced


def test_sent_at_is_read_for_the_lag_figures_and_is_optional():
    readings, sent_at = payload_parse(encode(reading(0, sentAt="2024-03-01T00:30:01.250Z")))
    _, absent = payload_parse(encode(reading(0)))

    assert len(readings) == 1
    assert sent_at == datetime(2024, 3, 1, 0, 30, 1, 250_000, tzinfo=UTC)
    assert absent is None


def test_reject_notes_name_the_reading_and_the_code():
    batch = parse(
        ("meters/M1/readings", b"nope"),
        ("meters/M2/readings", encode([reading(0), reading(1)])),
    )
    result = IngestResult(
        rejected_count=1,
        rejected=[{"index": 1, "code": "future_interval", "field": "intervalEnd", "message": "Not ended."}],
    )

    notes = reject_notes(batch, result, received_at=DAY)

    assert notes[0]["rejected"][0]["code"] == "malformed_payload"
    assert notes[1] == {
        "receivedAt": "2024-03-01T00:00:00Z",
        "rejected": [
            {
                "index": 1,
                "intervalStart": "2024-03-01T00:30:00Z",
                "code": "future_interval",
                "field": "intervalEnd",
                "message": "Not ended.",
            }
        ],
    }


@pytest.mark.postgres
@pytest.mark.slow
def test_readings_published_at_qos1_are_stored_exactly_as_actual_mqtt_readings(session, publisher, meters):
    consumer = start(session)
    first, second = meters

    for slot in range(6):
        publisher.publish(first, reading(slot, f"0.{slot + 1}234"))
    publisher.publish(second, [reading(0, "12.5"), reading(1, "0"), reading(2, "7")])
    wait_until(lambda: Reading.objects.count() == 9, what="9 stored readings")

    assert consumer.stop() == 0
    ours = stored(first)
    assert [ours[DAY + s * HALF_HOUR].energy_kwh for s in range(6)] == [
        Decimal("0.1234"),
        Decimal("0.2234"),
        Decimal("0.3234"),
        Decimal("0.4234"),
        Decimal("0.5234"),
        Decimal("0.6234"),
    ]
    assert [r.energy_kwh for r in sorted(stored(second).values(), key=lambda r: r.interval_start)] == [
        Decimal("12.5"),
        Decimal("0"),
        Decimal("7"),
    ]
    assert set(Reading.objects.values_list("quality", "source")) == {(Quality.ACTUAL, Source.MQTT)}
    assert all(r.interval_end - r.interval_start == HALF_HOUR for r in Reading.objects.all())
    assert "mqtt_ingest stopped: 7 messages, 9 stored (0 revised), 0 duplicates" in consumer.output


@pytest.mark.postgres
@pytest.mark.slow
def test_messages_sent_while_the_consumer_is_down_are_stored_once_after_its_restart(
    session, publisher, meters
):
    serial = meters[0]
    consumer = start(session)
    for slot in range(10):
        publisher.publish(serial, reading(slot, f"1.{slot}"))
    wait_until(lambda: Reading.objects.count() == 10, what="the first 10 readings")
    assert consumer.stop() == 0
    first_received = {r.interval_start: r.received_at for r in Reading.objects.all()}

    for slot in range(10, 20):  # the consumer is down: the broker keeps these in its session
        publisher.publish(serial, reading(slot, f"2.{slot}"))
    time.sleep(0.3)
    assert Reading.objects.count() == 10

    restarted = in_process(session, max_messages=13)  # the same client id, so the same session
    wait_until(lambda: Reading.objects.count() == 20, what="all 20 readings")
    for slot in (0, 4, 9):  # repeats of stored readings: duplicates, nothing changes
        publisher.publish(serial, reading(slot, f"1.{slot}"))
    restarted.runner.join(20)  # it stops by itself after 13 messages

    assert (
        restarted.stop().summary()
        == "13 messages, 10 stored (0 revised), 3 duplicates, 0 rejected, 0 malformed"
    )
    rows = stored(serial)
    assert len(rows) == 20
    assert Reading.objects.count() == 20  # each exactly once (the key is (meter, interval start))
    assert [rows[DAY + s * HALF_HOUR].energy_kwh for s in range(20)] == [
        Decimal(f"1.{s}") for s in range(10)
    ] + [Decimal(f"2.{s}") for s in range(10, 20)]
    assert {s: rows[s].received_at for s in first_received} == first_received
    assert not ReadingRevision.objects.exists()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_malformed_message_gets_a_reject_note_and_does_not_block_later_messages(
    session, publisher, meters, caplog
):
    serial = meters[0]
    consumer = in_process(session)

    publisher.publish(serial, b"{not json")
    publisher.publish(serial, reading(0, 0.5))  # a JSON float
    future = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    publisher.publish(
        serial,
        [
            reading(1, "1.5"),
            {
                "intervalStart": future.isoformat(),
                "intervalEnd": (future + HALF_HOUR).isoformat(),
                "kwh": "1",
            },
        ],
    )
    publisher.publish(serial, reading(2, "2.5"))
    wait_until(lambda: len(stored(serial)) == 2, what="the good readings")

    notes = [publisher.note() for _ in range(3)]
    assert {topic for topic, _ in notes} == {f"{session.topic_root}/{serial}/rejected"}
    malformed = [
        note["rejected"][0] for _, note in notes if note["rejected"][0]["code"] == "malformed_payload"
    ]
    assert sorted(m["message"][:8] for m in malformed) == ["kwh must", "not JSON"]
    (invalid,) = [note["rejected"] for _, note in notes if note["rejected"][0]["code"] != "malformed_payload"]
    assert invalid == [
        {
            "index": 1,
            "intervalStart": future.isoformat(),
            "code": "future_interval",
            "field": "intervalEnd",
            "message": "The interval has not ended yet.",
        }
    ]
    stats = consumer.stop()
    assert "4 messages, 2 stored (0 revised), 0 duplicates, 1 rejected, 2 malformed" in stats.summary()
    assert f"malformed message on {session.topic_root}/{serial}/readings: not JSON" in caplog.text
    assert [r.energy_kwh for r in sorted(stored(serial).values(), key=lambda r: r.interval_start)] == [
        Decimal("1.5"),
        Decimal("2.5"),
    ]


@pytest.mark.postgres
@pytest.mark.slow
def test_the_consumer_reconnects_when_the_broker_restarts_and_gets_what_was_queued(
    throwaway_broker, transactional_db, caplog
):
    caplog.set_level(logging.INFO, logger="metering.mqtt")
    # A broker of its own (the project's configuration) to stop and start: the default topic root.
    session = Session.new(throwaway_broker.target)
    serial = install_meters(throwaway_broker.target, 1)[0]
    consumer = in_process(session)
    publisher = Publisher(session.target, "meters")
    publisher.publish(serial, [reading(0, "1"), reading(1, "2")])
    wait_until(lambda: Reading.objects.count() == 2, what="readings before the outage")
    publisher.close()

    throwaway_broker.stop()
    wait_until(lambda: "lost the MQTT broker" in caplog.text, what="the consumer to notice")
    throwaway_broker.start()
    publisher = Publisher(session.target, "meters")  # the session queues, even before it is back
    publisher.publish(serial, [reading(2, "3"), reading(3, "4")])
    wait_until(
        lambda: Reading.objects.count() == 4, what=lambda: f"readings after the outage:\n{caplog.text}"
    )
    publisher.close()

    assert consumer.stop().messages == 2
    assert "session present: True" in caplog.text
    assert sorted(r.energy_kwh for r in stored(serial).values()) == [Decimal(n) for n in "1234"]
    session.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_failed_database_write_is_retried_and_acknowledged_only_after_it_committed(
    session, publisher, meters, monkeypatch
):
    events: list[str] = []
    real_ingest = metering_mqtt.mqtt_batch_store

    def flaky_ingest(**kwargs):
        if events.count("write failed") < 2:
            events.append("write failed")
            raise OperationalError("the database went away")
        result = real_ingest(**kwargs)
        events.append("committed")
        return result

    monkeypatch.setattr(metering_mqtt, "mqtt_batch_store", flaky_ingest)
    consumer = in_process(session, max_messages=1)
    real_ack = consumer.ingestor._client.ack
    consumer.ingestor._client.ack = lambda mid, qos: (events.append("acked"), real_ack(mid, qos))[1]

    publisher.publish(meters[0], reading(0, "4.2"))
    consumer.runner.join(20)  # stops by itself after one message

    stats = consumer.stop()
    assert events == ["write failed", "write failed", "committed", "acked"]
    assert stats.db_retries == 2
    assert stats.stored == 1
    assert [r.energy_kwh for r in stored(meters[0]).values()] == [Decimal("4.2")]
