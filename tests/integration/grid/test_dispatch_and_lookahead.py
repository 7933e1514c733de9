"""Dispatch of an approved plan over MQTT (QoS 1, device acknowledgements, a retry), its restore, audit;
the look-ahead run storing violations and proposing a plan."""

import datetime as dt
import json
import os
import socket
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from auditlog.models import LogEntry
from paho.mqtt.enums import CallbackAPIVersion

from grid.models import Dispatch, PowerFlowRun, SheddingPlan
from grid.mqtt import publish_with_ack
from grid.services.dispatch import shedding_plan_dispatch, shedding_plan_restore
from grid.services.monitoring import grid_lookahead
from grid.services.network import network_cache_clear, network_get, network_import
from grid.services.shedding import shedding_plan_approve, shedding_plan_create
from tests.factories.grid import small_net

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 1, 1, 17, 7, tzinfo=dt.UTC)
# Load-control dispatch talks to devices on the development broker (the project configuration on 18883
# admits only meters and the ingester; a dispatch account and its ACL lines are in docs/grid.md).
URL = "mqtt://127.0.0.1:1883"


@pytest.fixture(autouse=True)
def _fresh_cache():
    network_cache_clear()
    yield
    network_cache_clear()


@pytest.fixture
def network():
    network_import(name="small", net=small_net())
    return network_get(name="small")


@pytest.fixture
def broker():
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return URL
    except OSError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but no MQTT broker at 127.0.0.1:1883")
        pytest.skip("no MQTT broker at 127.0.0.1:1883")


class Devices:
    """Fake load controllers: acknowledge every instruction under `root`, except each topic's first one
    when `drop_first` (so the dispatcher has to retry)."""

    def __init__(self, root: str, *, drop_first: bool) -> None:
        self.seen: dict[str, int] = {}
        self.drop_first = drop_first
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        ready = threading.Event()
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        self.client.subscribe(f"{root}/+/+/instruction", qos=1)
        ready.wait(5)

    def _on_message(self, client, _userdata, message):
        self.seen[message.topic] = self.seen.get(message.topic, 0) + 1
        if self.drop_first and self.seen[message.topic] == 1:
            return
        body = json.loads(message.payload)
        client.publish(
            message.topic[: -len("instruction")] + "ack", json.dumps({"event_id": body["event_id"]}), qos=1
        )

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def test_an_approved_plan_is_dispatched_acknowledged_with_a_retry_then_restored(network, broker):
    root = f"test-grid-{uuid.uuid4().hex[:10]}"
    plan = shedding_plan_create(network=network, as_of=NOW, now=NOW, load_scale=3.0, sgen_scale=0.0).plan
    shedding_plan_approve(plan_id=plan.pk, user_id=None, now=NOW)
    devices = Devices(root, drop_first=True)
    publisher = lambda messages: publish_with_ack(url=broker, messages=messages, ack_seconds=1.0, retries=2)  # noqa: E731
    try:
        dispatch = shedding_plan_dispatch(plan_id=plan.pk, topic_root=root, now=NOW, publisher=publisher)
        restore = shedding_plan_restore(plan_id=plan.pk, topic_root=root, now=NOW, publisher=publisher)
    finally:
        devices.close()

    assert dispatch.status == Dispatch.Status.ACKNOWLEDGED
    instructions = list(dispatch.instructions.all())
    assert len(instructions) == plan.loads.count() > 0
    assert all(i.acknowledged_at and i.attempts == 2 for i in instructions)
    assert instructions[0].payload["intervals"][0]["payloads"][0]["type"] == "IMPORT_CAPACITY_LIMIT"
    assert restore.status == Dispatch.Status.ACKNOWLEDGED
    plan.refresh_from_db()
    assert plan.status == SheddingPlan.Status.RESTORED
    assert LogEntry.objects.get_for_object(dispatch).exists()


def test_a_proposed_plan_is_not_dispatched(network):
    plan = shedding_plan_create(network=network, as_of=NOW, now=NOW, load_scale=3.0, sgen_scale=0.0).plan

    with pytest.raises(Exception, match="cannot shed"):
        shedding_plan_dispatch(plan_id=plan.pk, topic_root="unused", now=NOW, publisher=None)
    assert not Dispatch.objects.exists()


def test_lookahead_stores_violations_per_step_and_proposes_a_plan(network):
    from grid.models import Load

    Load.objects.filter(network=network).update(p_mw=0.036, q_mvar=0.012)  # three times the base: overloads
    network.revision += 1
    network.save(update_fields=["revision"])

    outcome = grid_lookahead(network=network, now=NOW, hours=1)

    run = PowerFlowRun.objects.get()
    assert (run.kind, run.steps, run.load_source) == ("HORIZON", 4, "STORED")
    assert run.period_start == dt.datetime(2026, 1, 1, 17, 0, tzinfo=dt.UTC)
    assert outcome.violation_steps == 4
    assert run.violations.filter(kind="OVERLOAD", element="trafo:T1").count() == 4
    assert outcome.plan is not None
    assert outcome.plan.feasible
    assert outcome.plan.run_id == run.pk
