"""The MQTT consumer in tests: `manage.py mqtt_ingest` in a subprocess, or `MqttIngestor` in a thread, against
the test database and a broker of tests/brokers.py; a session (client id, topic root) per test."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from metering.models import Reading
from metering.mqtt.consumer import MqttIngestor
from metering.services.meters import meter_install, meter_point_create
from tests.brokers import ROOT, BrokerTarget, mqtt_environment, remove_session


@dataclass
class Session:
    target: BrokerTarget
    client_id: str
    # Of this test alone on an open broker (other consumers there do not see its messages); `meters` on a
    # secured broker, whose ACL allows nothing else.
    topic_root: str
    consumers: list = field(default_factory=list)

    @classmethod
    def new(cls, target: BrokerTarget) -> "Session":
        run = uuid.uuid4().hex[:10]
        return cls(target, f"test-ingest-{run}", "meters" if target.secured else f"test-{run}/meters")

    def close(self) -> None:
        for consumer in self.consumers:
            if isinstance(consumer, Consumer):
                consumer.kill()
            else:
                consumer.stop()
        remove_session(self.target, self.client_id)


class Consumer:
    """`manage.py mqtt_ingest` in a subprocess against the test database."""

    def __init__(self, session: Session, *extra: str):
        db = settings.DATABASES["default"]
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            **mqtt_environment(session.target),
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
        "url": session.target.url(),
        "ca_file": session.target.ca_file,
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


def install_meters(target: BrokerTarget, count: int = 2) -> list[str]:
    """Installed meters: serials unique to this run on an open broker, the broker's device accounts on a
    secured one."""
    if target.secured:
        assert len(target.devices) >= count, "MQTT_TEST_DEVICES names too few device accounts"
        serials = list(target.devices[:count])
    else:
        suffix = uuid.uuid4().hex[:8].upper()
        serials = [f"MQTT-{suffix}-{n}" for n in range(1, count + 1)]
    for serial in serials:
        point = meter_point_create(identifier=f"MP-{serial}")
        meter_install(
            meter_point_identifier=point.identifier,
            serial=serial,
            installed_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
    return serials


def stored(serial: str) -> dict[datetime, Reading]:
    return {r.interval_start: r for r in Reading.objects.filter(meter__serial=serial)}
