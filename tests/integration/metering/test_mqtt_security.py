"""The broker configuration shipped in deploy/mosquitto (issue 10 item 8), run as is on a port of its own:
RELIABILITY.md check 36 (MQTT ingestion security): anonymous and plaintext connections are refused, a meter
cannot publish for another meter nor read its data, oversized packets are refused."""

import socket
import ssl
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from tests.brokers import INGEST_USERNAME, BrokerTarget

pytestmark = pytest.mark.slow

X, Y = "MQTT-X-1", "MQTT-Y-2"


def connect(target: BrokerTarget, client: mqtt.Client) -> ReasonCode | str:
    """Connect and wait for the CONNACK: its reason code, or what went wrong before one came."""
    outcome: list = []
    done = threading.Event()
    client.on_connect = lambda c, u, flags, code, props: (outcome.append(code), done.set())
    client.on_disconnect = lambda c, u, flags, code, props: (
        outcome.append(f"disconnected: {code}"),
        done.set(),
    )
    try:
        client.connect(target.host, target.port, keepalive=10)
    except (OSError, ssl.SSLError) as exc:
        return f"refused: {type(exc).__name__}"
    client.loop_start()
    done.wait(5)
    return outcome[0] if outcome else "no answer"


def connected(target: BrokerTarget, client: mqtt.Client) -> mqtt.Client:
    code = connect(target, client)
    assert isinstance(code, ReasonCode), code
    assert not code.is_failure, code
    return client


def close(*clients: mqtt.Client) -> None:
    for client in clients:
        client.disconnect()
        client.loop_stop()


def test_an_anonymous_client_is_refused(throwaway_broker):
    """Check 36: anonymous connections are refused."""
    target = throwaway_broker.target
    client = target.client("anonymous", username="")

    code = connect(target, client)

    assert isinstance(code, ReasonCode)
    assert code.getName() == "Not authorized"
    close(client)


def test_a_wrong_password_is_refused(throwaway_broker):
    target = throwaway_broker.target
    code = connect(target, target.client("guess", username=X, password="not-the-password"))

    assert isinstance(code, ReasonCode)
    assert code.is_failure


def test_plaintext_mqtt_is_refused_on_the_tls_port(throwaway_broker):
    """Check 36: a plaintext CONNECT (with valid credentials) gets no CONNACK: the port speaks TLS only."""
    target = throwaway_broker.target
    client = target.client("plain", username=X, password=target.device_password, tls=False)

    assert not isinstance(connect(target, client), ReasonCode)
    close(client)
    with socket.create_connection((target.host, target.port), timeout=5) as raw:
        raw.sendall(bytes.fromhex("101000044d5154540502003c000003616263"))  # CONNECT, MQTT 5, client id "abc"
        raw.settimeout(5)
        try:
            answer = raw.recv(16)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    assert not answer.startswith(b"\x20")  # no CONNACK


def test_tls_needs_a_certificate_the_client_trusts(throwaway_broker):
    target = throwaway_broker.target
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="untrusting", protocol=mqtt.MQTTv5)
    client.username_pw_set(X, target.device_password)
    client.tls_set_context(ssl.create_default_context())  # the system's CAs: not the throwaway CA

    assert str(connect(target, client)).startswith("refused")


def test_a_meter_cannot_publish_for_another_meter_nor_read_its_data(throwaway_broker):
    """Check 36: with meter Y's credentials, a publish to meter X's topic is denied by the broker's ACL
    (PUBACK "Not authorized") and never reaches the ingester; Y receives none of X's readings or notes."""
    target = throwaway_broker.target
    to_ingester: list[tuple[str, bytes]] = []
    ingester = connected(target, target.client("ingester-under-test"))
    ingester.on_message = lambda c, u, m: to_ingester.append((m.topic, m.payload))
    ingester.subscribe("meters/+/readings", qos=1)
    y = connected(target, target.device(Y))
    to_y: list[str] = []
    y.on_message = lambda c, u, m: to_y.append(m.topic)
    y.subscribe([(f"meters/{X}/readings", 1), (f"meters/{X}/rejected", 0), ("meters/#", 1)])
    acks: dict[int, ReasonCode] = {}
    y.on_publish = lambda c, u, mid, code, props: acks.__setitem__(mid, code)
    x = connected(target, target.device(X))
    time.sleep(0.3)

    forged = y.publish(f"meters/{X}/readings", b'{"forged": true}', qos=1)
    own = y.publish(f"meters/{Y}/readings", b'{"own": true}', qos=1)
    x.publish(f"meters/{X}/readings", b'{"x": true}', qos=1).wait_for_publish(5)
    ingester.publish(f"meters/{X}/rejected", b'{"note": true}', qos=0)
    forged.wait_for_publish(5)
    own.wait_for_publish(5)
    deadline = time.monotonic() + 5
    while len(to_ingester) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)

    assert acks[forged.mid].getName() == "Not authorized"
    assert not acks[own.mid].is_failure
    assert sorted(to_ingester) == [
        (f"meters/{X}/readings", b'{"x": true}'),
        (f"meters/{Y}/readings", b'{"own": true}'),
    ]
    assert to_y == []  # not even its own readings: a meter reads only its notes
    close(ingester, x, y)


def test_the_ingester_account_cannot_publish_readings(throwaway_broker):
    target = throwaway_broker.target
    ingester = connected(target, target.client("ingester-publishing"))
    acks: dict[int, ReasonCode] = {}
    ingester.on_publish = lambda c, u, mid, code, props: acks.__setitem__(mid, code)

    info = ingester.publish(f"meters/{X}/readings", b"{}", qos=1)
    info.wait_for_publish(5)

    assert acks[info.mid].getName() == "Not authorized"
    assert target.username == INGEST_USERNAME
    close(ingester)


def test_a_packet_over_the_brokers_limit_is_refused(throwaway_broker):
    """Check 36: the broker refuses (disconnects) a packet over max_packet_size (1 MiB)."""
    target = throwaway_broker.target
    x = connected(target, target.device(X))
    disconnected = threading.Event()
    x.on_disconnect = lambda *args: disconnected.set()

    x.publish(f"meters/{X}/readings", b"0" * (1024 * 1024 + 1), qos=1)

    assert disconnected.wait(5)
    close(x)
