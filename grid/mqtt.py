"""Load-control instructions over MQTT: QoS 1 publish, an acknowledgement from each device, retries.

Topic of an instruction: `<root>/<network id>/<load id>/instruction`; the device answers on the same path
ending in `/ack` with `{"event_id": ...}`. Each instruction not acknowledged within `ack_seconds` is
published again, up to `retries` times.
"""

import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


@dataclass(frozen=True)
class Outgoing:
    topic: str
    payload: dict[str, Any]


def _connect(url: str, client_id: str) -> mqtt.Client:
    parts = urlsplit(url)
    tls = parts.scheme in ("mqtts", "ssl")
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
    )
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password) if parts.password else None)
    if tls:
        client.tls_set()
    client.connect(parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883), keepalive=30)
    return client


def publish_with_ack(
    *, url: str, messages: Sequence[Outgoing], ack_seconds: float = 5.0, retries: int = 3
) -> dict[str, int]:
    """Publish every message (QoS 1) and wait for the devices' acks; returns topic → attempts for the
    acknowledged ones (a topic missing from the result was never acknowledged)."""
    acked: dict[str, int] = {}
    attempts: dict[str, int] = {m.topic: 0 for m in messages}
    expected = {m.topic[: -len("instruction")] + "ack": m for m in messages}
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_message(_client: Any, _userdata: Any, message: Any) -> None:
        outgoing = expected.get(message.topic)
        if outgoing is None:
            return
        try:
            body = json.loads(message.payload)
        except ValueError:
            return
        if body.get("event_id") == outgoing.payload.get("event_id"):
            with lock:
                acked.setdefault(outgoing.topic, attempts[outgoing.topic])

    client = _connect(url, f"grid-dispatch-{uuid.uuid4().hex[:12]}")
    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.loop_start()
    try:
        roots = sorted({t.rsplit("/", 2)[0] for t in expected})
        for root in roots:
            client.subscribe(f"{root}/+/ack", qos=1)
        subscribed.wait(5.0)
        pending = list(messages)
        for _attempt in range(retries + 1):
            for message in pending:
                attempts[message.topic] += 1
                info = client.publish(message.topic, json.dumps(message.payload), qos=1)
                info.wait_for_publish(5.0)
            deadline = time.monotonic() + ack_seconds
            while time.monotonic() < deadline:
                with lock:
                    if all(m.topic in acked for m in pending):
                        break
                time.sleep(0.02)
            with lock:
                pending = [m for m in pending if m.topic not in acked]
            if not pending:
                break
    finally:
        client.loop_stop()
        client.disconnect()
    return acked
