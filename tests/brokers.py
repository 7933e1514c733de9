"""MQTT brokers for the tests: the one at MQTT_URL, and throwaway ones that run the project's own Mosquitto
configuration (deploy/mosquitto: TLS, per-device accounts, the ACL) on a port of their own.

The broker at MQTT_URL is either an open development broker (anonymous devices; each test then uses a topic
root and serials of its own), or, in CI, the project's configuration: set MQTT_URL=mqtts://metering-ingest:
<password>@localhost:<port>, MQTT_CA_FILE, MQTT_TEST_DEVICES (serials with an account) and
MQTT_TEST_DEVICE_PASSWORD. Devices then publish as themselves under the topic root `meters`, as in
production, so the tests pass only if the ACL lets them.
"""

import json
import os
import queue
import secrets
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

from metering.mqtt.messages import broker_address

ROOT = Path(__file__).resolve().parents[1]
THROWAWAY = ROOT / "deploy" / "mosquitto" / "throwaway-broker"
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
INGEST_USERNAME = "metering-ingest"


@dataclass(frozen=True)
class BrokerTarget:
    host: str
    port: int
    ca_file: str | None = None  # TLS when set
    username: str | None = None  # the ingester's account
    password: str | None = None
    devices: tuple[str, ...] = ()  # serials with an account (secured brokers)
    device_password: str | None = None

    @property
    def secured(self) -> bool:
        return self.device_password is not None

    def url(self) -> str:
        scheme = "mqtts" if self.ca_file else "mqtt"
        auth = (
            f"{quote(self.username, safe='')}:{quote(self.password or '', safe='')}@" if self.username else ""
        )
        return f"{scheme}://{auth}{self.host}:{self.port}"

    def client(
        self, client_id: str = "", *, username: str | None = None, password: str | None = None, tls=True
    ) -> mqtt.Client:
        """An MQTT 5 client for this broker (TLS with its CA), as the ingester unless told otherwise."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        user = self.username if username is None else username
        if user:
            client.username_pw_set(user, self.password if username is None else password)
        if self.ca_file and tls:
            client.tls_set(ca_certs=self.ca_file)
        return client

    def device(self, serial: str) -> mqtt.Client:
        """A client that is meter `serial` (its own account on a secured broker, anonymous otherwise)."""
        if self.secured:
            return self.client(
                f"device-{serial}-{uuid.uuid4().hex[:6]}", username=serial, password=self.device_password
            )
        return self.client(f"device-{uuid.uuid4().hex[:8]}", username="")

    def port_open(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False


def configured_target() -> BrokerTarget:
    """The broker of MQTT_URL (see the module doc)."""
    address = broker_address(settings.MQTT_URL)
    device_password = os.environ.get("MQTT_TEST_DEVICE_PASSWORD") or None
    return BrokerTarget(
        host=address.host,
        port=address.port,
        ca_file=(getattr(settings, "MQTT_CA_FILE", "") or None) if address.tls else None,
        username=address.username,
        password=address.password,
        devices=tuple(os.environ.get("MQTT_TEST_DEVICES", "").split()) if device_password else (),
        device_password=device_password,
    )


def wait_until(condition, timeout: float = 15, what="condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayBroker:
    """A Mosquitto of its own running deploy/mosquitto/mosquitto.conf (TLS, accounts, ACL, persistence to
    `directory`), with throwaway certificates and passwords; it can be stopped and started again."""

    def __init__(self, directory: Path, devices: list[str], port: int | None = None):
        self.directory = directory
        self.port = port or free_port()
        ingest_password = secrets.token_urlsafe(12)
        device_password = secrets.token_urlsafe(12)
        subprocess.run(
            [str(THROWAWAY), str(directory), str(self.port)],
            check=True,
            env={
                **os.environ,
                "MQTT_INGEST_PASSWORD": ingest_password,
                "MQTT_DEVICES": " ".join(devices),
                "MQTT_DEVICE_PASSWORD": device_password,
            },
        )
        self.target = BrokerTarget(
            host="localhost",
            port=self.port,
            ca_file=str(directory / "certs" / "ca.crt"),
            username=INGEST_USERNAME,
            password=ingest_password,
            devices=tuple(devices),
            device_password=device_password,
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.target.port_open, timeout=5, what="the throwaway broker")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # saves the sessions to its persistence file
            self.process.wait(10)


def encode(document) -> bytes:
    return json.dumps(document).encode()


class Publisher:
    """Meters: each serial publishes as itself at QoS 1 and collects its notes on <root>/<serial>/rejected."""

    def __init__(self, target: BrokerTarget, topic_root: str):
        self.target = target
        self.topic_root = topic_root
        self.notes: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.clients: dict[str, mqtt.Client] = {}

    def _device(self, serial: str) -> mqtt.Client:
        if serial not in self.clients:
            client = self.target.device(serial)
            subscribed = threading.Event()
            client.on_subscribe = lambda *args: subscribed.set()
            client.on_message = lambda c, u, m: self.notes.put((m.topic, json.loads(m.payload)))
            client.connect(self.target.host, self.target.port)
            client.loop_start()
            client.subscribe(f"{self.topic_root}/{serial}/rejected", qos=0)
            assert subscribed.wait(5), f"device {serial} could not subscribe to its notes"
            self.clients[serial] = client
        return self.clients[serial]

    def publish(self, serial: str, document) -> None:
        payload = document if isinstance(document, bytes) else encode(document)
        info = self._device(serial).publish(f"{self.topic_root}/{serial}/readings", payload, qos=1)
        info.wait_for_publish(5)

    def note(self, timeout: float = 10) -> tuple[str, dict]:
        return self.notes.get(timeout=timeout)

    def close(self) -> None:
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()
        self.clients.clear()


def remove_session(target: BrokerTarget, client_id: str) -> None:
    """Connect once with a clean start (session expiry 0): the broker forgets the session."""
    cleaner = target.client(client_id)
    cleaner.connect(target.host, target.port, clean_start=True)
    cleaner.loop_start()
    cleaner.disconnect()
    cleaner.loop_stop()


def mqtt_environment(target: BrokerTarget) -> dict[str, str]:
    """The settings of a consumer process for `target`."""
    return {"MQTT_URL": target.url(), "MQTT_CA_FILE": target.ca_file or ""}
