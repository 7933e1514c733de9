"""MQTT telemetry: the payload parser, and the consumer end to end through the real broker into PostgreSQL,
as `manage.py mqtt_ingest` in a subprocess or, for fault injection and quick restarts, in a thread.

The end-to-end tests need Mosquitto at MQTT_URL (default 127.0.0.1:1883) and PostgreSQL; a closed broker
port skips them, or fails them under REQUIRE_SERVICES=1. Each test uses its own client id and serials, and
removes its session from the broker afterwards.
"""

import json
import logging
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.db import OperationalError
from paho.mqtt.enums import CallbackAPIVersion

from metering import mqtt as metering_mqtt
from metering.models import Quality, Reading, ReadingRevision, Source
from metering.mqtt import (
    MqttIngestor,
    broker_address,
    mqtt_url,
    payload_parse,
    readings_from_messages,
    reject_notes,
)
from metering.services.readings import IngestResult, meter_install, meter_point_create
from metering.validation import Reject

ROOT = Path(__file__).resolve().parents[3]
BROKER = broker_address(mqtt_url())
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


def encode(document) -> bytes:
    return json.dumps(document).encode()


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
    assert reason in batch.errors[0]
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
    assert "is not acme/meters/<serial>/readings" in batch.errors[2]


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


# --- End to end: a real broker, a real consumer process, PostgreSQL -------------------------------------


def _broker_port_open() -> bool:
    try:
        with socket.create_connection((BROKER.host, BROKER.port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def broker():
    if not _broker_port_open():
        message = f"no MQTT broker at {BROKER.host}:{BROKER.port} (set MQTT_URL)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {message}")
        pytest.skip(message)
    return BROKER


def _client(client_id: str = "", **kwargs) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, **kwargs)
    if BROKER.username:
        client.username_pw_set(BROKER.username, BROKER.password)
    return client


class Publisher:
    """A device-side client: publishes at QoS 1 and collects the notes on <root>/+/rejected."""

    def __init__(self, topic_root: str, port: int = BROKER.port):
        self.topic_root = topic_root
        self.notes: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.client = _client(f"test-pub-{uuid.uuid4().hex[:8]}")
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_message = lambda c, u, m: self.notes.put((m.topic, json.loads(m.payload)))
        self.client.connect(BROKER.host, port)
        self.client.loop_start()
        self.client.subscribe(f"{topic_root}/+/rejected", qos=0)
        assert subscribed.wait(5)

    def publish(self, serial: str, document) -> None:
        payload = document if isinstance(document, bytes) else encode(document)
        self.client.publish(f"{self.topic_root}/{serial}/readings", payload, qos=1).wait_for_publish(5)

    def note(self, timeout: float = 10) -> tuple[str, dict]:
        return self.notes.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Consumer:
    """`manage.py mqtt_ingest` in a subprocess against the test database."""

    def __init__(self, session: "Session", *extra: str):
        db = settings.DATABASES["default"]
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "MQTT_URL": mqtt_url(),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "mqtt_ingest",
                "--client-id",
                session.client_id,
                "--topic-root",
                session.topic_root,
                "--batch-ms",
                "50",
                "--session-expiry",
                "300",  # a run killed before its clean-up leaves no session behind for long
                *extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.topic_root = session.topic_root
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 40) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if text in line]
            if found:
                return found[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self._reader.join(1)
        raise AssertionError(f"consumer never printed {text!r}; output:\n{self.output}")

    def wait_subscribed(self) -> None:
        self.wait_for(f"subscribed to {self.topic_root}/+/readings")

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@dataclass
class Session:
    client_id: str
    topic_root: str  # of this test alone: other consumers on the shared broker do not see its messages
    consumers: list


@pytest.fixture
def session(broker):
    """A unique client id and topic root for the consumer; its persistent session is removed afterwards."""
    run = uuid.uuid4().hex[:10]
    session = Session(f"test-ingest-{run}", f"test-{run}/meters", [])
    yield session
    for consumer in session.consumers:
        if isinstance(consumer, Consumer):
            consumer.kill()
        else:
            consumer.stop()
    cleaner = _client(session.client_id)
    cleaner.connect(BROKER.host, BROKER.port, clean_start=True)  # session expiry 0: gone on disconnect
    cleaner.loop_start()
    cleaner.disconnect()
    cleaner.loop_stop()


@pytest.fixture
def publisher(session):
    publisher = Publisher(session.topic_root)
    yield publisher
    publisher.close()


@pytest.fixture
def meters(transactional_db):
    """Two installed meters with serials unique to this run."""
    suffix = uuid.uuid4().hex[:8].upper()
    serials = []
    for n in (1, 2):
        point = meter_point_create(identifier=f"MP-MQTT-{suffix}-{n}")
        meter = meter_install(
            meter_point_identifier=point.identifier,
            serial=f"MQTT-{suffix}-{n}",
            installed_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
        serials.append(meter.serial)
    return serials


def stored(serial: str) -> dict[datetime, Reading]:
    return {r.interval_start: r for r in Reading.objects.filter(meter__serial=serial)}


def wait_until(condition, timeout: float = 15, what="condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


class InProcess:
    """The consumer in a thread of the test process (for fault injection and quick starts)."""

    def __init__(self, ingestor: MqttIngestor):
        self.ingestor = ingestor
        self.runner = threading.Thread(target=ingestor.run, daemon=True)
        self.runner.start()
        assert ingestor.subscribed.wait(10), "the in-process consumer did not subscribe"

    def stop(self):
        self.ingestor.stop()
        self.runner.join(15)
        assert not self.runner.is_alive()
        return self.ingestor.stats


def in_process(session: Session, **options) -> InProcess:
    options = {
        "topic_root": session.topic_root,
        "batch_ms": 20,
        "progress_seconds": 0,
        "session_expiry": 300,
        **options,
    }
    consumer = InProcess(MqttIngestor(client_id=session.client_id, **options))
    session.consumers.append(consumer)
    return consumer


def start(session: Session, *extra: str) -> Consumer:
    consumer = Consumer(session, *extra)
    session.consumers.append(consumer)
    consumer.wait_subscribed()
    return consumer


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


MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


class PrivateBroker:
    """A Mosquitto of this test's own (persistent to a temporary directory), to stop and start again."""

    def __init__(self, directory: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {directory}/\n"
            # Started as root, Mosquitto would switch to its own user, who cannot write to tmp_path.
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(self._open, timeout=5, what="the private broker")

    def _open(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # saves the sessions to its persistence file
            self.process.wait(10)


@pytest.fixture
def private_broker(broker, tmp_path):
    if not MOSQUITTO:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but the mosquitto binary is not on PATH")
        pytest.skip("needs the mosquitto binary")
    private = PrivateBroker(tmp_path)
    private.start()
    yield private
    private.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_the_consumer_reconnects_when_the_broker_restarts_and_gets_what_was_queued(
    session, private_broker, meters, caplog
):
    caplog.set_level(logging.INFO, logger="metering.mqtt")
    serial = meters[0]
    # A broker of its own: the default topic root, as in production.
    consumer = in_process(session, url=f"mqtt://127.0.0.1:{private_broker.port}", topic_root="meters")
    publisher = Publisher("meters", port=private_broker.port)
    publisher.publish(serial, [reading(0, "1"), reading(1, "2")])
    wait_until(lambda: Reading.objects.count() == 2, what="readings before the outage")
    publisher.close()

    private_broker.stop()
    wait_until(lambda: "lost the MQTT broker" in caplog.text, what="the consumer to notice")
    private_broker.start()
    publisher = Publisher("meters", port=private_broker.port)  # the session queues, even before it is back
    publisher.publish(serial, [reading(2, "3"), reading(3, "4")])
    wait_until(
        lambda: Reading.objects.count() == 4, what=lambda: f"readings after the outage:\n{caplog.text}"
    )
    publisher.close()

    assert consumer.stop().messages == 2
    assert "session present: True" in caplog.text
    assert sorted(r.energy_kwh for r in stored(serial).values()) == [Decimal(n) for n in "1234"]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_failed_database_write_is_retried_and_acknowledged_only_after_it_committed(
    session, publisher, meters, monkeypatch
):
    events: list[str] = []
    real_ingest = metering_mqtt.readings_ingest

    def flaky_ingest(**kwargs):
        if events.count("write failed") < 2:
            events.append("write failed")
            raise OperationalError("the database went away")
        result = real_ingest(**kwargs)
        events.append("committed")
        return result

    monkeypatch.setattr(metering_mqtt, "readings_ingest", flaky_ingest)
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
