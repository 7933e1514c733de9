"""Fixtures of the MQTT tests: the broker of MQTT_URL, a consumer session, meters and a publisher."""

import os

import pytest

from tests.brokers import MOSQUITTO, Publisher, ThrowawayBroker, configured_target
from tests.integration.metering.mqtt_support import Session, install_meters


def _missing(message: str):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


@pytest.fixture
def broker():
    """The broker of MQTT_URL; a closed port skips the test (fails it under REQUIRE_SERVICES=1)."""
    target = configured_target()
    if not target.port_open():
        _missing(f"no MQTT broker at {target.host}:{target.port} (set MQTT_URL)")
    return target


@pytest.fixture
def session(broker):
    """A unique client id (and topic root) for the consumer; its persistent session is removed afterwards."""
    session = Session.new(broker)
    yield session
    session.close()


@pytest.fixture
def publisher(session):
    publisher = Publisher(session.target, session.topic_root)
    yield publisher
    publisher.close()


@pytest.fixture
def meters(transactional_db, broker):
    """Two installed meters that can publish on the broker."""
    return install_meters(broker)


THROWAWAY_DEVICES = ["MQTT-X-1", "MQTT-Y-2", "MQTT-Z-3"]


@pytest.fixture
def throwaway_broker(tmp_path):
    """A broker of this test's own running the project's configuration (deploy/mosquitto), with device
    accounts THROWAWAY_DEVICES."""
    if not MOSQUITTO:
        _missing("the mosquitto binary is not on PATH")
    broker = ThrowawayBroker(tmp_path / "broker", THROWAWAY_DEVICES)
    broker.start()
    yield broker
    broker.stop()
