"""MQTT reading messages, Django-free: broker addresses, topics, payload parsing, batches, reject notes.

Meters publish to `<root>/<serial>/readings`. The payload is one JSON object, or a JSON list of them:
    {"intervalStart": "2024-01-15T00:00:00Z", "intervalEnd": "2024-01-15T00:30:00Z", "kwh": "0.123",
     "sentAt": "2024-01-15T00:30:02.120Z", "serial": "M1"}
`kwh` is a decimal string (or a JSON integer); a JSON number with a fraction or exponent is malformed, as
binary floats from firmware are not exact. `sentAt` is optional and only feeds the lag figures; `serial`
is optional and, when present, must be the topic's serial.

Nothing a client sends can raise out of `readings_from_messages`: every message that is not a reading (too
large, not UTF-8, not JSON, nested too deep, the wrong shape or types, a serial that is not the topic's) is
kept out of the arrays with a reject code and reason, for the reject note and the dead-letter row.
"""

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol
from urllib.parse import unquote, urlsplit

import numpy as np

from core.periods import is_aware
from metering.validation import MAX_KWH, ReadingArrays, ReadingInput, readings_from_inputs

logger = logging.getLogger(__name__)

DEFAULT_TOPIC_ROOT = "meters"  # readings on <root>/<serial>/readings, notes on <root>/<serial>/rejected
MAX_READINGS_PER_MESSAGE = 10_000
DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024  # ≈ 2,000 readings in one message
MAX_NOTE_ITEMS = 100
MAX_REASON_CHARS = 300
# A valid payload is a list of objects of scalars: depth 2. A large document nested deeper is refused before
# decoding (`'[' * 100000 + ']' * 100000`); a small one stops the decoder at its recursion limit, caught.
MAX_NESTING = 3
_SCAN_ABOVE_BYTES = 4096
# A naive datetime stands for an unparsable timestamp: readings_from_inputs turns it into NaT, which
# validation rejects as invalid_timestamp (the same code as a timestamp without an offset).
_UNPARSABLE = datetime(1970, 1, 1)  # noqa: DTZ001


# Whole-message reject codes (in the note and the dead-letter row); readings of a well-formed message that
# fail validation carry the validation codes instead.
MALFORMED_PAYLOAD = "malformed_payload"
PAYLOAD_TOO_LARGE = "payload_too_large"
SERIAL_MISMATCH = "serial_mismatch"
WRONG_TOPIC = "wrong_topic"
INGEST_FAILED = "ingest_failed"


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


class MalformedPayload(ValueError):
    """The message is not a reading or a list of readings; the text goes into the reject note."""

    code = MALFORMED_PAYLOAD

    def __init__(self, message: str, code: str = MALFORMED_PAYLOAD):
        super().__init__(message)
        self.code = code


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
    if len(parts) != 2 or parts[1] != "readings" or not parts[0]:
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


def _nesting(text: str) -> int:
    """The deepest bracket nesting outside strings (a linear scan; stops once past MAX_NESTING)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def _timestamp(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return _UNPARSABLE


def _kwh(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload('kwh must be a decimal string such as "0.123" (or an integer)')
    if isinstance(value, str) and len(value) > 40:
        return None  # no exact energy needs more digits; also bounds Decimal's work
    try:
        kwh = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if kwh.is_finite() and abs(kwh) >= MAX_KWH:
        return None
    return kwh


def payload_parse(
    payload: bytes, *, serial: str | None = None, max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
) -> tuple[list[ParsedReading], datetime | None]:
    """The readings of one message and its `sentAt`; raises MalformedPayload with a code and short reason.

    Structure and types are checked here; values (an unparsable timestamp or number) are left to
    validation, which rejects them per reading with the codes every ingest path uses. `serial` is the
    topic's: a reading that names another serial is refused (a device writing for another meter).
    """
    if len(payload) > max_bytes:
        raise MalformedPayload(f"{len(payload)} bytes is over the limit of {max_bytes}", PAYLOAD_TOO_LARGE)
    try:
        text = payload.decode()
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"not JSON: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if len(payload) > _SCAN_ABOVE_BYTES and _nesting(text) > MAX_NESTING:
        raise MalformedPayload(f"not JSON of readings: nested deeper than {MAX_NESTING} levels")
    try:
        document = _DECODER.decode(text)
    except MalformedPayload:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError
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
        named = item.get("serial")
        if serial is not None and named is not None and named != serial:
            raise MalformedPayload(
                f"{where}serial {str(named)[:40]!r} is not the topic's meter {serial!r}", SERIAL_MISMATCH
            )
        start, end = item["intervalStart"], item["intervalEnd"]
        if not isinstance(start, str) or not isinstance(end, str):
            raise MalformedPayload(f"{where}intervalStart and intervalEnd must be ISO 8601 strings")
        try:
            kwh = _kwh(item["kwh"])
        except MalformedPayload as exc:
            raise MalformedPayload(f"{where}{exc}") from None
        readings.append(ParsedReading(_timestamp(start), _timestamp(end), kwh, start[:64]))
        if sent_at is None and isinstance(item.get("sentAt"), str):
            parsed = _timestamp(item["sentAt"])
            sent_at = parsed if parsed.tzinfo is not None else None
    return readings, sent_at


@dataclass(frozen=True)
class MessageError:
    code: str
    reason: str


@dataclass
class ParsedBatch:
    """A batch of messages as one set of arrays, with the way back from a row to its message."""

    readings: ReadingArrays
    message_of_row: np.ndarray  # int64: the message (position in the batch) of each row
    position_in_message: np.ndarray  # int64: the reading's position in its message's list
    start_text: list[str]  # intervalStart as sent, per row
    serials: list[str | None]  # per message (None: not a readings topic)
    errors: dict[int, MessageError]  # message position → why it is refused as a whole
    sent_at: list[datetime | None]  # per message
    superseded: int = 0  # rows dropped because a later message of the batch sent the same interval again
    repeated: int = 0  # ... of which with the same value (counted as duplicates)


def _parse_one(
    topic: str, payload: bytes, *, topic_root: str, max_bytes: int
) -> tuple[str | None, list[ParsedReading], datetime | None]:
    serial = serial_from_topic(topic, topic_root)
    if serial is None:
        raise MalformedPayload(f"topic {topic[:200]!r} is not {topic_root}/<serial>/readings", WRONG_TOPIC)
    parsed, sent_at = payload_parse(payload, serial=serial, max_bytes=max_bytes)
    return serial, parsed, sent_at


def readings_from_messages(
    messages: Sequence[tuple[str, bytes]],
    *,
    meter_ids: Callable[[list[str]], Mapping[str, int]],
    topic_root: str = DEFAULT_TOPIC_ROOT,
    max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> ParsedBatch:
    """Turn (topic, payload) pairs into one ReadingArrays plus the refused messages (pure but for
    `meter_ids`, which maps serials to meter ids in one call; unknown serials get -1).

    When two messages of the batch carry the same meter and interval, the later one wins (the same as if
    they had come in two batches); two different values inside one message stay a conflict for validation.
    """
    inputs: list[ReadingInput] = []
    row_message: list[int] = []
    row_position: list[int] = []
    start_text: list[str] = []
    serials: list[str | None] = []
    errors: dict[int, MessageError] = {}
    sent_at: list[datetime | None] = []
    for index, (topic, payload) in enumerate(messages):
        serials.append(serial_from_topic(topic, topic_root))
        sent_at.append(None)
        try:
            _, parsed, sent_at[index] = _parse_one(topic, payload, topic_root=topic_root, max_bytes=max_bytes)
        except MalformedPayload as exc:
            errors[index] = MessageError(exc.code, str(exc)[:MAX_REASON_CHARS])
            continue
        except Exception as exc:  # input must never stop the ingest; the traceback is for the developers
            logger.exception("unexpected error parsing a message on %s", topic[:200])
            errors[index] = MessageError(MALFORMED_PAYLOAD, f"unreadable message ({type(exc).__name__})")
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
    ids = meter_ids(sorted({s for s in row_serials if s is not None})) if row_serials else {}
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
        if is_aware(reading.interval_start):
            last[(serials[message], reading.interval_start)] = message
    if len(last) == len(inputs):  # the common case: every interval once
        return list(range(len(inputs))), 0
    keep, dropped = [], []
    kept_values: dict[tuple, set] = {}
    for row, (reading, message) in enumerate(zip(inputs, row_message, strict=True)):
        key = (serials[message], reading.interval_start)
        if not is_aware(reading.interval_start) or last[key] == message:
            keep.append(row)
            kept_values.setdefault(key, set()).add(reading.kwh)
        else:
            dropped.append((key, reading.kwh))
    repeated = sum(1 for key, kwh in dropped if kwh in kept_values[key])
    return keep, repeated


class HasRejects(Protocol):
    rejected: list[dict]


def reject_notes(batch: ParsedBatch, result: HasRejects | None, *, received_at: datetime) -> dict[int, dict]:
    """A JSON note per message with something rejected: refused as a whole, or readings that failed
    validation."""
    notes: dict[int, dict] = {}
    stamp = received_at.isoformat().replace("+00:00", "Z")
    for message, error in batch.errors.items():
        notes[message] = {"receivedAt": stamp, "rejected": [{"code": error.code, "message": error.reason}]}
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
