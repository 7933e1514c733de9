"""Live smart-meter telemetry over MQTT: subscribe, batch, ingest, acknowledge after the commit.

Meters publish to `meters/<serial>/readings` at QoS 1. The consumer keeps a persistent session under a stable
client id, so the broker queues what arrives while it is down. Messages go from paho's network thread into a
queue; the consumer's own thread takes up to `batch_size` messages or `batch_ms` milliseconds of them, turns
them into one `ReadingArrays` and calls `readings_ingest` once. Each message is acknowledged only after that
transaction committed: delivery is at least once, the ingest is idempotent, so every reading is stored
exactly once. A malformed message or a rejected reading is counted, logged and answered with a short JSON
note on `meters/<serial>/rejected` (QoS 0), then acknowledged, so that a poison message cannot block the
session.

Payload: one JSON object, or a JSON list of them:
    {"intervalStart": "2024-01-15T00:00:00Z", "intervalEnd": "2024-01-15T00:30:00Z", "kwh": "0.123",
     "sentAt": "2024-01-15T00:30:02.120Z"}
`kwh` is a decimal string (or a JSON integer); a JSON number with a fraction or exponent is malformed, as
binary floats from firmware are not exact. `sentAt` is optional and only feeds the lag figures.
"""

import contextlib
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote, urlsplit

import numpy as np
import paho.mqtt.client as mqtt
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from core.results import IngestResult
from metering.models import Source
from metering.selectors import readings as selectors
from metering.services.readings import ReadingInput, readings_from_inputs, readings_ingest
from metering.validation import ReadingArrays

logger = logging.getLogger(__name__)

DEFAULT_TOPIC_ROOT = "meters"  # readings on <root>/<serial>/readings, notes on <root>/<serial>/rejected
DEFAULT_URL = "mqtt://127.0.0.1:1883"
DEFAULT_CLIENT_ID = "metering-ingest"
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
MAX_READINGS_PER_MESSAGE = 10_000
MAX_KWH = Decimal(10) ** 9  # beyond any meter; keeps the exact conversion inside int64
MAX_NOTE_ITEMS = 100
# A naive datetime stands for an unparsable timestamp: readings_from_inputs turns it into NaT, which
# validation rejects as invalid_timestamp (the same code as a timestamp without an offset).
_UNPARSABLE = datetime(1970, 1, 1)  # noqa: DTZ001


def mqtt_url() -> str:
    """The broker address (the lead moves this into settings)."""
    return os.environ.get("MQTT_URL", DEFAULT_URL)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def broker_address(url: str) -> BrokerAddress:
    """Parse `mqtt://[user:pass@]host[:port]` (or `mqtts://` for TLS, default port 8883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, not {url!r}")
    tls = parts.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


# --- Payloads (pure) ------------------------------------------------------------------------------------


class MalformedPayload(ValueError):
    """The message is not a reading or a list of readings; the text goes into the reject note."""


@dataclass(frozen=True)
class ParsedReading:
    interval_start: datetime  # naive (→ invalid_timestamp) when the text was not ISO 8601 with an offset
    interval_end: datetime
    kwh: Decimal | None  # None → invalid_number
    interval_start_text: str


def serial_from_topic(topic: str, root: str = DEFAULT_TOPIC_ROOT) -> str | None:
    """The serial of `<root>/<serial>/readings`; None for any other topic."""
    if not topic.startswith(root + "/"):
        return None
    parts = topic[len(root) + 1 :].split("/")
    if len(parts) != 2 or parts[1] != "readings":
        return None
    return parts[0]


def check_topic_root(root: str) -> str:
    if not root or root.endswith("/") or set(root) & {"+", "#"}:
        raise ValueError(f"topic root {root!r} must be a topic without wildcards or a trailing slash")
    return root


def _reject_constant(name: str):
    raise MalformedPayload(f"{name} is not a number")


# Exact numbers (a float would be caught and rejected, not rounded); NaN and Infinity literals are errors.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _timestamp(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return _UNPARSABLE


def _kwh(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload('kwh must be a decimal string such as "0.123" (or an integer)')
    try:
        kwh = Decimal(value)
    except InvalidOperation:
        return None
    if kwh.is_finite() and abs(kwh) >= MAX_KWH:
        return None
    return kwh


def payload_parse(payload: bytes) -> tuple[list[ParsedReading], datetime | None]:
    """The readings of one message and its `sentAt`; raises MalformedPayload with a short reason.

    Structure and types are checked here; values (an unparsable timestamp or number) are left to
    validation, which rejects them per reading with the codes every ingest path uses.
    """
    try:
        document = _DECODER.decode(payload.decode())
    except MalformedPayload:
        raise
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedPayload(f"not JSON: {exc}") from None
    items = document if isinstance(document, list) else [document]
    if not items:
        raise MalformedPayload("an empty list holds no readings")
    if len(items) > MAX_READINGS_PER_MESSAGE:
        raise MalformedPayload(f"more than {MAX_READINGS_PER_MESSAGE} readings in one message")
    readings, sent_at = [], None
    for position, item in enumerate(items):
        where = f"reading {position}: " if isinstance(document, list) else ""
        if not isinstance(item, dict):
            raise MalformedPayload(f"{where}a reading must be a JSON object")
        missing = [key for key in ("intervalStart", "intervalEnd", "kwh") if key not in item]
        if missing:
            raise MalformedPayload(f"{where}missing {', '.join(missing)}")
        start, end = item["intervalStart"], item["intervalEnd"]
        if not isinstance(start, str) or not isinstance(end, str):
            raise MalformedPayload(f"{where}intervalStart and intervalEnd must be ISO 8601 strings")
        try:
            kwh = _kwh(item["kwh"])
        except MalformedPayload as exc:
            raise MalformedPayload(f"{where}{exc}") from None
        readings.append(ParsedReading(_timestamp(start), _timestamp(end), kwh, start))
        if sent_at is None and isinstance(item.get("sentAt"), str):
            parsed = _timestamp(item["sentAt"])
            sent_at = parsed if parsed.tzinfo is not None else None
    return readings, sent_at


@dataclass
class ParsedBatch:
    """A batch of messages as one set of arrays, with the way back from a row to its message."""

    readings: ReadingArrays
    message_of_row: np.ndarray  # int64: the message (position in the batch) of each row
    position_in_message: np.ndarray  # int64: the reading's position in its message's list
    start_text: list[str]  # intervalStart as sent, per row
    serials: list[str | None]  # per message (None: not a readings topic)
    errors: dict[int, str]  # message position → why it is malformed
    sent_at: list[datetime | None]  # per message
    superseded: int = 0  # rows dropped because a later message of the batch sent the same interval again
    repeated: int = 0  # ... of which with the same value (counted as duplicates)


def readings_from_messages(
    messages: Sequence[tuple[str, bytes]],
    *,
    meter_ids: Callable[[list[str]], Mapping[str, int]],
    topic_root: str = DEFAULT_TOPIC_ROOT,
) -> ParsedBatch:
    """Turn (topic, payload) pairs into one ReadingArrays plus the malformed messages (pure but for
    `meter_ids`, which maps serials to meter ids in one call; unknown serials get -1).

    When two messages of the batch carry the same meter and interval, the later one wins (the same as if
    they had come in two batches); two different values inside one message stay a conflict for validation.
    """
    inputs: list[ReadingInput] = []
    row_message: list[int] = []
    row_position: list[int] = []
    start_text: list[str] = []
    serials: list[str | None] = []
    errors: dict[int, str] = {}
    sent_at: list[datetime | None] = []
    for index, (topic, payload) in enumerate(messages):
        serial = serial_from_topic(topic, topic_root)
        serials.append(serial)
        sent_at.append(None)
        if serial is None:
            errors[index] = f"topic {topic!r} is not {topic_root}/<serial>/readings"
            continue
        try:
            parsed, sent_at[index] = payload_parse(payload)
        except MalformedPayload as exc:
            errors[index] = str(exc)[:300]
            continue
        for position, reading in enumerate(parsed):
            inputs.append(ReadingInput(reading.interval_start, reading.interval_end, reading.kwh))
            row_message.append(index)
            row_position.append(position)
            start_text.append(reading.interval_start_text)

    keep, repeated = _latest_message_wins(inputs, row_message, serials)
    superseded = len(inputs) - len(keep)
    if superseded:
        inputs = [inputs[i] for i in keep]
        row_message = [row_message[i] for i in keep]
        row_position = [row_position[i] for i in keep]
        start_text = [start_text[i] for i in keep]
    row_serials = [serials[m] for m in row_message]
    ids = meter_ids(sorted(set(row_serials))) if row_serials else {}
    arrays = readings_from_inputs(-1, inputs)  # the exact Decimal conversion of every ingest path
    arrays = replace(arrays, meter_id=np.array([ids.get(s, -1) for s in row_serials], dtype="int64"))
    return ParsedBatch(
        readings=arrays,
        message_of_row=np.array(row_message, dtype="int64"),
        position_in_message=np.array(row_position, dtype="int64"),
        start_text=start_text,
        serials=serials,
        errors=errors,
        sent_at=sent_at,
        superseded=superseded,
        repeated=repeated,
    )


def _latest_message_wins(
    inputs: list[ReadingInput], row_message: list[int], serials: list[str | None]
) -> tuple[list[int], int]:
    """Rows to keep (for each serial and interval start, those of the last message that sent it) and how
    many dropped rows repeat a kept value."""
    last: dict[tuple, int] = {}
    for reading, message in zip(inputs, row_message, strict=True):
        if reading.interval_start.tzinfo is not None:
            last[(serials[message], reading.interval_start)] = message
    if len(last) == len(inputs):  # the common case: every interval once
        return list(range(len(inputs))), 0
    keep, dropped = [], []
    kept_values: dict[tuple, set] = {}
    for row, (reading, message) in enumerate(zip(inputs, row_message, strict=True)):
        key = (serials[message], reading.interval_start)
        if reading.interval_start.tzinfo is None or last[key] == message:
            keep.append(row)
            kept_values.setdefault(key, set()).add(reading.kwh)
        else:
            dropped.append((key, reading.kwh))
    repeated = sum(1 for key, kwh in dropped if kwh in kept_values[key])
    return keep, repeated


def reject_notes(
    batch: ParsedBatch, result: IngestResult | None, *, received_at: datetime
) -> dict[int, dict]:
    """A JSON note per message with something rejected: malformed, or readings that failed validation."""
    notes: dict[int, dict] = {}
    stamp = received_at.isoformat().replace("+00:00", "Z")
    for message, reason in batch.errors.items():
        notes[message] = {
            "receivedAt": stamp,
            "rejected": [{"code": "malformed_payload", "message": reason}],
        }
    for reject in result.rejected if result else []:
        row = reject["index"]
        message = int(batch.message_of_row[row])
        note = notes.setdefault(message, {"receivedAt": stamp, "rejected": []})
        if len(note["rejected"]) < MAX_NOTE_ITEMS:
            note["rejected"].append(
                {
                    "index": int(batch.position_in_message[row]),
                    "intervalStart": batch.start_text[row],
                    "code": reject["code"],
                    "field": reject["field"],
                    "message": reject["message"],
                }
            )
    return notes


# --- The consumer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int  # the broker connection it came on: a PUBACK is only valid on that connection
    received_at: float  # time.time()


@dataclass
class IngestStats:
    messages: int = 0
    malformed: int = 0
    readings: int = 0
    stored: int = 0  # written: new or revised
    revised: int = 0
    duplicates: int = 0  # nothing changed (a repeat of a stored value, or of a value in the same batch)
    superseded: int = 0  # dropped for a later value of the same interval in the same batch
    rejected: int = 0  # readings that failed validation
    batches: int = 0
    db_retries: int = 0

    def summary(self) -> str:
        return (
            f"{self.messages} messages, {self.stored} stored ({self.revised} revised), "
            f"{self.duplicates} duplicates, {self.rejected} rejected, {self.malformed} malformed"
            + (f", {self.superseded} superseded" if self.superseded else "")
        )


@dataclass(frozen=True)
class BatchReport:
    """Handed to `on_batch` after a batch committed (and before its acknowledgements went out)."""

    messages: list[Received]
    sent_at: list[datetime | None]
    result: IngestResult
    committed_at: float  # time.time()


@dataclass
class _Interval:
    started: float = field(default_factory=time.monotonic)
    messages: int = 0
    lags_ms: list[float] = field(default_factory=list)


def _no_delay(client, userdata, sock) -> None:
    """Send acknowledgements and notes at once rather than after Nagle's delay."""
    with contextlib.suppress(AttributeError, OSError):  # not a TCP socket
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttIngestor:
    """Consume `<topic_root>/+/readings` into the readings table until `stop()` or a limit (module doc)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        topic_root: str = DEFAULT_TOPIC_ROOT,
        batch_size: int = 500,
        batch_ms: int = 100,
        progress_seconds: float = 10.0,
        max_seconds: float | None = None,
        max_messages: int | None = None,
        protocol: str = "5",
        session_expiry: int = SESSION_NEVER_EXPIRES,
        on_batch: Callable[[BatchReport], None] | None = None,
    ):
        if batch_size < 1 or batch_ms < 0:
            raise ValueError("batch_size must be at least 1 and batch_ms not negative")
        if protocol not in ("5", "3.1.1"):
            raise ValueError("protocol must be 5 or 3.1.1")
        self.broker = broker_address(url or mqtt_url())
        self.client_id = client_id
        self.topic_root = check_topic_root(topic_root)
        self.topic = f"{topic_root}/+/readings"
        self.batch_size = batch_size
        self.batch_s = batch_ms / 1000
        self.progress_seconds = progress_seconds
        self.max_seconds = max_seconds
        self.max_messages = max_messages
        self.protocol = protocol
        self.session_expiry = session_expiry
        self.on_batch = on_batch
        self.stats = IngestStats()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._queue: queue.Queue[Received] = queue.Queue()
        self._lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._client = self._make_client()

    # paho's network thread ----------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        if self.protocol == "5":
            client = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv5,
                manual_ack=True,
            )
        else:
            client = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                clean_session=False,
                protocol=mqtt.MQTTv311,
                manual_ack=True,
            )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if logger.isEnabledFor(logging.DEBUG):
            client.enable_logger(logging.getLogger(f"{__name__}.paho"))
        client.on_socket_open = _no_delay
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties | None:
        if self.protocol != "5":
            return None
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        # The broker sends at most this many unacknowledged messages; room for the batch being written and
        # the next one filling up. (MQTT 3.1.1 has no such field: Mosquitto's max_inflight_messages, 20 by
        # default, then caps every batch.)
        properties.ReceiveMaximum = min(65_535, max(20, 2 * self.batch_size))
        return properties

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("MQTT broker refused the connection: %s", reason_code)
            return
        with self._lock:
            self._generation += 1
            self._connected = True
            reconnected = self._generation > 1
        logger.info(
            "connected to %s:%s as %s (session present: %s)",
            self.broker.host,
            self.broker.port,
            self.client_id,
            flags.session_present,
        )
        if reconnected and not flags.session_present:
            logger.warning(
                "the broker no longer had the session of %s: messages sent while disconnected are lost "
                "(broker without persistence, or the session expired)",
                self.client_id,
            )
        client.subscribe(self.topic, qos=1)

    def _on_connect_fail(self, client, userdata) -> None:
        logger.warning("cannot reach the MQTT broker at %s:%s; retrying", self.broker.host, self.broker.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._lock:
            self._generation += 1
            self._connected = False
        self.subscribed.clear()
        if self._stop.is_set():
            logger.info("disconnected from the MQTT broker")
        else:
            logger.warning("lost the MQTT broker (%s); reconnecting with back-off", reason_code)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            logger.error("the broker refused the subscription to %s: %s", self.topic, reason_codes)
            return
        logger.info("subscribed to %s (QoS 1) as %s", self.topic, self.client_id)
        self.subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = ""
        self._queue.put(
            Received(topic, bytes(message.payload), message.mid, message.qos, self._generation, time.time())
        )

    # the consumer's thread ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the current batch, acknowledge it and disconnect (safe from a signal handler)."""
        self._stop.set()

    def run(self) -> IngestStats:
        """Consume until `stop()`, `max_seconds` or `max_messages`; returns the totals."""
        started = time.monotonic()
        deadline = started + self.max_seconds if self.max_seconds else None
        interval = _Interval()
        self._client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=30,
            **(
                {"clean_start": False, "properties": self._connect_properties()}
                if self.protocol == "5"
                else {}
            ),
        )
        self._client.loop_start()
        try:
            while not self._stop.is_set():
                if deadline and time.monotonic() >= deadline:
                    break
                limit = self.batch_size
                if self.max_messages is not None:
                    limit = min(limit, self.max_messages - self.stats.messages)
                    if limit <= 0:
                        break
                batch = self._collect(limit)
                if batch and self._ingest(batch, interval):
                    interval.messages += len(batch)
                if self.progress_seconds and time.monotonic() - interval.started >= self.progress_seconds:
                    self._report(interval)
                    interval = _Interval()
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            connection.close()
        logger.info("stopped: %s", self.stats.summary())
        return self.stats

    def _collect(self, limit: int) -> list[Received]:
        """Up to `limit` messages, waiting at most `batch_ms` after the first one."""
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        until = time.monotonic() + self.batch_s
        while len(batch) < limit:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = until - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _ingest(self, batch: list[Received], interval: _Interval) -> bool:
        """Write the batch (retrying while the database is unavailable), publish notes, acknowledge.

        Returns False when stopped before the batch could be written: it stays unacknowledged and the broker
        delivers it again.
        """
        delay = 0.5
        while True:
            now = timezone.now()  # of this attempt: validation rejects intervals that have not ended
            try:
                parsed = readings_from_messages(
                    [(m.topic, m.payload) for m in batch],
                    meter_ids=lambda serials: selectors.meter_ids_for_serials(serials=serials),
                    topic_root=self.topic_root,
                )
                result = (
                    readings_ingest(readings=parsed.readings, source=Source.MQTT, now=now)
                    if len(parsed.readings)
                    else IngestResult()
                )
                break
            except (OperationalError, InterfaceError) as exc:
                self.stats.db_retries += 1
                logger.error("database write failed (%s); retrying the batch in %.1f s", exc, delay)
                try:
                    connection.close()
                except Exception:  # the connection is already broken; a new one is opened on retry
                    logger.debug("closing the broken database connection failed", exc_info=True)
                if self._stop.wait(delay):
                    logger.warning("stopping with %d unwritten messages (the broker keeps them)", len(batch))
                    return False
                delay = min(delay * 2, 30.0)
        committed_at = time.time()
        self._count(batch, parsed, result)
        for message, note in reject_notes(parsed, result, received_at=now).items():
            serial = parsed.serials[message]
            if parsed.errors.get(message):
                logger.warning("malformed message on %s: %s", batch[message].topic, parsed.errors[message])
            else:
                logger.info("rejected readings on %s: %s", batch[message].topic, note["rejected"][0]["code"])
            if serial is not None:
                self._client.publish(f"{self.topic_root}/{serial}/rejected", json.dumps(note), qos=0)
        if result.rejected_count > len(result.rejected):
            logger.warning("%d rejected readings not detailed", result.rejected_count - len(result.rejected))
        for sent_at in parsed.sent_at:
            if sent_at is not None:
                interval.lags_ms.append((committed_at - sent_at.timestamp()) * 1000)
        if self.on_batch:
            self.on_batch(BatchReport(batch, parsed.sent_at, result, committed_at))
        self._ack(batch)
        return True

    def _count(self, batch: list[Received], parsed: ParsedBatch, result: IngestResult) -> None:
        stats = self.stats
        stats.batches += 1
        stats.messages += len(batch)
        stats.malformed += len(parsed.errors)
        stats.readings += len(parsed.readings) + parsed.superseded
        stats.stored += result.accepted
        stats.revised += result.revised
        stats.duplicates += result.duplicates + parsed.repeated
        stats.superseded += parsed.superseded - parsed.repeated
        stats.rejected += result.rejected_count

    def _ack(self, batch: list[Received]) -> None:
        """PUBACK each message on the connection it came on; those of an earlier connection are sent again
        by the broker (and then count as duplicates)."""
        with self._lock:
            if not self._connected:
                return
            for message in batch:
                if message.qos and message.generation == self._generation:
                    self._client.ack(message.mid, message.qos)

    def _report(self, interval: _Interval) -> None:
        elapsed = max(time.monotonic() - interval.started, 1e-9)
        lag = ""
        if interval.lags_ms:
            p50, p95 = np.percentile(interval.lags_ms, [50, 95])
            lag = f"; lag p50 {p50:.0f} ms, p95 {p95:.0f} ms"
        logger.info("%.1f msg/s; total %s%s", interval.messages / elapsed, self.stats.summary(), lag)
