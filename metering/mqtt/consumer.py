"""The MQTT consumer behind `manage.py mqtt_ingest`: subscribe, batch, ingest, acknowledge after the commit.

Meters publish to `meters/<serial>/readings` at QoS 1 (payloads: `metering.mqtt.messages`). The consumer
keeps a persistent session under a stable client id, so the broker queues what arrives while it is down.
Messages go from paho's network thread into a queue; the consumer's own thread takes up to `batch_size`
messages or `batch_ms` milliseconds of them, turns them into one `ReadingArrays` and stores them with one
service call. Each message is acknowledged only after that transaction committed: delivery is at least once,
the ingest is idempotent, so every reading is stored exactly once.

No input stops the consumer. A message refused as a whole (malformed, oversized, a serial that is not the
topic's) gets a dead-letter row in the batch's transaction; a rejected reading is counted; both are logged
and answered with a short JSON note on `meters/<serial>/rejected` (QoS 0), then acknowledged. Should the
store itself fail on a batch with anything but a database outage, each message is stored alone and the one
that still fails is dead-lettered (`ingest_failed`), so a poison message cannot block the session.
"""

import contextlib
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from core.results import IngestResult
from metering.mqtt.messages import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_TOPIC_ROOT,
    INGEST_FAILED,
    SERIAL_MISMATCH,
    MessageError,
    ParsedBatch,
    broker_address,
    check_topic_root,
    readings_from_messages,
    reject_notes,
    serial_from_topic,
)
from metering.selectors import readings as selectors
from metering.services.telemetry import DeadLetter, mqtt_batch_store, mqtt_dead_letters_record

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "metering-ingest"
SESSION_NEVER_EXPIRES = 0xFFFFFFFF


def mqtt_url() -> str:
    """The broker address: the MQTT_URL setting."""
    return settings.MQTT_URL


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
        max_payload_bytes: int | None = None,
        ca_file: str | None = None,
    ):
        if batch_size < 1 or batch_ms < 0:
            raise ValueError("batch_size must be at least 1 and batch_ms not negative")
        if protocol not in ("5", "3.1.1"):
            raise ValueError("protocol must be 5 or 3.1.1")
        self.broker = broker_address(url or mqtt_url())
        self.max_payload_bytes = max_payload_bytes or getattr(
            settings, "MQTT_MAX_PAYLOAD_BYTES", DEFAULT_MAX_PAYLOAD_BYTES
        )
        self.ca_file = ca_file or getattr(settings, "MQTT_CA_FILE", "") or None
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
            client.tls_set(ca_certs=self.ca_file)  # None: the system's CAs; the host name is checked
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
        try:
            outcome = self._with_db_retry(lambda now: self._store(batch, now), len(batch))
        except Exception:  # not a database outage: find the message the store fails on
            if len(batch) > 1:
                logger.exception("storing a batch of %d messages failed; storing them one by one", len(batch))
                return all(self._ingest([message], interval) for message in batch)
            logger.exception("storing the message on %s failed; it goes to the dead letters", batch[0].topic)
            outcome = self._with_db_retry(lambda now: self._store_failed(batch[0], now), 1)
        if outcome is None:
            return False
        parsed, result, now = outcome
        committed_at = time.time()
        self._count(batch, parsed, result)
        for message, note in reject_notes(parsed, result, received_at=now).items():
            serial = parsed.serials[message]
            error = parsed.errors.get(message)
            if error and error.code == SERIAL_MISMATCH:
                logger.error(
                    "ALERT possible forged reading on %s: %s", batch[message].topic[:200], error.reason
                )
            elif error:
                logger.warning(
                    "malformed message on %s: %s (%s)", batch[message].topic[:200], error.reason, error.code
                )
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

    def _with_db_retry(self, write: Callable[[datetime], tuple], messages: int) -> tuple | None:
        """`write(now)`, again with back-off while the database is unavailable; None when stopped first."""
        delay = 0.5
        while True:
            now = timezone.now()  # of this attempt: validation rejects intervals that have not ended
            try:
                return (*write(now), now)
            except (OperationalError, InterfaceError) as exc:
                self.stats.db_retries += 1
                logger.error("database write failed (%s); retrying the batch in %.1f s", exc, delay)
                try:
                    connection.close()
                except Exception:  # the connection is already broken; a new one is opened on retry
                    logger.debug("closing the broken database connection failed", exc_info=True)
                if self._stop.wait(delay):
                    logger.warning("stopping with %d unwritten messages (the broker keeps them)", messages)
                    return None
                delay = min(delay * 2, 30.0)

    def _store(self, batch: list[Received], now: datetime) -> tuple[ParsedBatch, IngestResult]:
        parsed = readings_from_messages(
            [(m.topic, m.payload) for m in batch],
            meter_ids=lambda serials: selectors.meter_ids_for_serials(serials=serials),
            topic_root=self.topic_root,
            max_bytes=self.max_payload_bytes,
        )
        dead_letters = [
            DeadLetter(batch[i].topic, parsed.serials[i], error.code, error.reason, batch[i].payload)
            for i, error in parsed.errors.items()
        ]
        result = mqtt_batch_store(
            readings=parsed.readings,
            dead_letters=dead_letters,
            max_payload_bytes=self.max_payload_bytes,
            now=now,
        )
        return parsed, result

    def _store_failed(self, message: Received, now: datetime) -> tuple[ParsedBatch, IngestResult]:
        parsed = readings_from_messages([], meter_ids=dict)
        parsed.serials = [serial_from_topic(message.topic, self.topic_root)]
        parsed.sent_at = [None]
        reason = "the ingest failed on this message; staff are told"
        parsed.errors = {0: MessageError(INGEST_FAILED, reason)}
        letter = DeadLetter(message.topic, parsed.serials[0], INGEST_FAILED, reason, message.payload)
        mqtt_dead_letters_record(dead_letters=[letter], max_payload_bytes=self.max_payload_bytes, now=now)
        return parsed, IngestResult()

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
