"""MQTT payloads that are not readings (issue 10 item 7): every one is refused with a code and a reason, none
raises, however deep, large, badly encoded or oddly shaped. RELIABILITY.md check 36 (oversized payloads
rejected, a serial that is not the topic's dropped) and check 32 (malformed input rejected with a rule id)."""

import json
import random
import time

import pytest

from metering.mqtt import messages
from metering.mqtt.messages import (
    MALFORMED_PAYLOAD,
    PAYLOAD_TOO_LARGE,
    SERIAL_MISMATCH,
    readings_from_messages,
)

GOOD = {"intervalStart": "2024-03-01T00:00:00Z", "intervalEnd": "2024-03-01T00:30:00Z", "kwh": "0.5"}


def parse(payload: bytes, *, topic: str = "meters/M1/readings", max_bytes: int = 256 * 1024):
    return readings_from_messages(
        [(topic, payload), ("meters/M2/readings", json.dumps(GOOD).encode())],
        meter_ids=lambda serials: {"M1": 1, "M2": 2},
        max_bytes=max_bytes,
    )


POISON = {
    "deep brackets (the reported crash)": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep but small": b"[" * 2_000 + b"]" * 2_000,
    "invalid UTF-8": b'{"kwh": "\xff\xfe"}',
    "lone surrogate bytes": b"\xed\xa0\x80",
    "NUL bytes": b"\x00" * 100,
    "empty": b"",
    "a list of lists": b"[[1, 2], [3]]",
    "an object where a timestamp goes": json.dumps({**GOOD, "intervalStart": {"$date": 1}}).encode(),
    "a list where kwh goes": json.dumps({**GOOD, "kwh": ["0.5"]}).encode(),
    "a 5,000-digit integer": b'{"intervalStart": "x", "intervalEnd": "y", "kwh": ' + b"9" * 5_000 + b"}",
    "a huge exponent": json.dumps({**GOOD, "kwh": 1}).encode().replace(b"1}", b"1e999999999}"),
    "too many readings": json.dumps([GOOD] * (messages.MAX_READINGS_PER_MESSAGE + 1)).encode(),
}


@pytest.mark.parametrize("payload", POISON.values(), ids=POISON.keys())
def test_a_poison_payload_is_refused_with_a_reason_and_the_other_message_is_kept(payload):
    """Check 32/36: rejected with a code, never an exception; the batch's other message goes on."""
    started = time.monotonic()

    batch = parse(payload, max_bytes=4 * 1024 * 1024)

    assert list(batch.errors) == [0]
    assert batch.errors[0].code == MALFORMED_PAYLOAD
    assert batch.errors[0].reason
    assert batch.readings.meter_id.tolist() == [2]
    assert time.monotonic() - started < 2


def test_a_payload_over_the_limit_is_refused_before_it_is_decoded():
    """Check 36: an oversized payload is rejected."""
    batch = parse(json.dumps([GOOD] * 3).encode(), max_bytes=200)

    assert batch.errors[0].code == PAYLOAD_TOO_LARGE
    assert "over the limit of 200" in batch.errors[0].reason


def test_a_reading_naming_another_meter_than_the_topic_is_refused_as_a_serial_mismatch():
    """Check 36: a device writing for another meter is dropped (and the consumer alerts)."""
    forged = parse(json.dumps({**GOOD, "serial": "M2"}).encode())
    own = parse(json.dumps({**GOOD, "serial": "M1"}).encode())

    assert forged.errors[0].code == SERIAL_MISMATCH
    assert "'M2' is not the topic's meter 'M1'" in forged.errors[0].reason
    assert own.errors == {}
    assert own.readings.meter_id.tolist() == [1, 2]


def test_an_unexpected_parser_error_is_a_refused_message_not_a_crash(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(messages, "payload_parse", broken)

    batch = parse(json.dumps(GOOD).encode())

    assert batch.errors[0].code == MALFORMED_PAYLOAD
    assert batch.errors[0].reason == "unreadable message (KeyError)"


def _mutations(rng: random.Random, count: int):
    base = json.dumps([GOOD, {**GOOD, "kwh": 3}]).encode()
    for _ in range(count):
        payload = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(payload))
            action = rng.random()
            if action < 0.4:
                payload[position] = rng.randrange(256)
            elif action < 0.7:
                del payload[position]
            else:
                payload[position:position] = rng.choice([b"[", b"{", b'"', b"\\", b"\xc3", b"e9", b"-", b","])
        yield bytes(payload)
    for _ in range(count // 4):
        yield rng.randbytes(rng.randint(0, 300))


def test_random_mutations_of_a_valid_payload_never_raise():
    """Check 32: whatever the bytes, each message is a set of rows or one refused message."""
    rng = random.Random(10_7)
    for payload in _mutations(rng, 2_000):
        batch = parse(payload)
        assert batch.readings.meter_id.tolist()[-1] == 2, payload
        assert set(batch.errors) <= {0}
