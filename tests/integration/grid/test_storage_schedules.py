"""Storage schedule runs in the database: inputs from metering and pricing, rows, idempotency, dispatch."""

import json
import os
import queue
import socket
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from grid.models import ScheduleInterval, ScheduleRun
from grid.optimize.storage import Schedule, schedule_violations
from grid.services.storage import (
    battery_asset_upsert,
    feeder_limit_set,
    fleet_inputs,
    storage_schedule_dispatch,
    storage_schedule_run,
    storage_schedules_due,
)
from metering.mqtt.messages import broker_address
from metering.services.readings import meter_point_create
from pricing.services.dynamic import announced_rates_publish
from tests.factories.metering import half_hours, ingest, make_meter
from tests.factories.pricing import announced, make_announced_dtou_tariff

pytestmark = pytest.mark.django_db
DAY = date(2013, 1, 15)
START = datetime(2013, 1, 15, tzinfo=UTC)
END = START + timedelta(days=1)
NOW = datetime(2013, 1, 14, 18, tzinfo=UTC)


@pytest.fixture
def fleet():
    tariff = make_announced_dtou_tariff("DTOU")
    announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced(DAY), now=NOW)
    for k in range(4):
        feeder = "F1" if k < 3 else "F2"
        meter_point_create(identifier=f"MP-{k}", feeder_code=feeder, has_pv=k % 2 == 0)
        battery_asset_upsert(
            code=f"BAT-{k}",
            meter_point_identifier=f"MP-{k}",
            capacity_kwh=Decimal("10"),
            power_kw=Decimal("3"),
            soc_max_kwh=Decimal("9.5"),
            soc_min_kwh=Decimal("1"),
            soc_initial_kwh=Decimal("5"),
            degradation_cost_per_kwh=Decimal("0.01"),
            pv_peak_kw=Decimal("3") if k % 2 == 0 else Decimal("0"),
        )
    # one household with measured load a week earlier (the load profile's source)
    meter = make_meter("LOAD-1", feeder="F1", installed_at=datetime(2012, 1, 1, tzinfo=UTC))
    ingest(meter, half_hours(START - timedelta(days=7), 48, kwh="0.4000"))
    battery_asset_upsert(
        code="BAT-LOAD",
        meter_point_identifier=meter.meter_point.identifier,
        capacity_kwh=Decimal("5"),
        power_kw=Decimal("2.5"),
        soc_max_kwh=Decimal("5"),
        soc_initial_kwh=Decimal("2"),
    )
    return tariff


def test_a_day_ahead_run_stores_a_feasible_row_per_unit_and_interval(fleet):
    run = storage_schedule_run(
        tariff_code=fleet, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )

    assert run.status == "OPTIMAL"
    assert run.units == 5
    assert run.intervals == 48
    assert ScheduleInterval.objects.filter(run=run).count() == 5 * 48
    problem = fleet_inputs(tariff_code=fleet, period_start=START, period_end=END).problem
    assert problem.load_kw[problem.fleet.units.index("BAT-LOAD")].tolist() == [0.8] * 48
    rows = ScheduleInterval.objects.filter(run=run).order_by(
        "asset__meter_point__feeder_code", "asset__code", "interval_start"
    )
    values = np.array(list(rows.values_list("charge_kw", "discharge_kw", "soc_kwh"))).reshape(5, 48, 3)
    stored = Schedule(values[:, :, 0], values[:, :, 1], values[:, :, 2], 0.0, "optimal")
    assert schedule_violations(problem, stored) == []
    # the battery charges in the Low band and discharges in the High band
    high = [i for i, rate in enumerate(announced(DAY)) if rate.band == "High"]
    assert values[:, high, 1].sum() > 0


def test_the_same_inputs_return_the_stored_run(fleet):
    first = storage_schedule_run(
        tariff_code=fleet, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )
    again = storage_schedule_run(
        tariff_code=fleet, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )

    assert again.pk == first.pk
    assert ScheduleRun.objects.count() == 1


def test_a_changed_feeder_limit_makes_a_new_run_that_keeps_it(fleet):
    first = storage_schedule_run(
        tariff_code=fleet, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )
    feeder_limit_set(feeder_code="F1", import_limit_kw=Decimal("3"), export_limit_kw=Decimal("2"))

    second = storage_schedule_run(
        tariff_code=fleet, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )

    assert second.pk != first.pk
    assert second.status == "OPTIMAL"
    assert second.feeders_coupled == ["F1"]


def test_limits_that_cannot_be_met_are_stored_as_an_infeasible_run_without_rows(fleet):
    feeder_limit_set(feeder_code="F1", import_limit_kw=Decimal("0"), export_limit_kw=Decimal("0"))

    run = storage_schedule_run(
        tariff_code=fleet, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )

    assert run.status == "INFEASIBLE"
    assert run.message.startswith("feeder F1:")
    assert not ScheduleInterval.objects.filter(run=run).exists()


def test_due_schedules_wait_for_prices_then_run_once(fleet):
    early = storage_schedules_due(tariff_code=fleet, now=datetime(2013, 1, 13, 18, tzinfo=UTC), mqtt_url=None)
    assert [run.kind for run in early] == []  # no prices for the 14th or the 15th yet... the 14th neither

    runs = storage_schedules_due(tariff_code=fleet, now=NOW, mqtt_url=None)
    assert [run.kind for run in runs] == ["DAY_AHEAD"]
    assert storage_schedules_due(tariff_code=fleet, now=NOW, mqtt_url=None)[0].pk == runs[0].pk


# Schedules go to the batteries over the development broker (the project configuration on 18883 admits
# only meters and the ingester).
DISPATCH_URL = "mqtt://127.0.0.1:1883"
BROKER = broker_address(DISPATCH_URL)


def _broker_open() -> bool:
    try:
        with socket.create_connection((BROKER.host, BROKER.port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_dispatch_publishes_each_units_schedule_at_qos1_and_counts_acknowledgements(fleet):
    if not _broker_open():
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but no MQTT broker")
        pytest.skip("no MQTT broker")
    run = storage_schedule_run(
        tariff_code=fleet, period_start=START, period_end=END, kind="day_ahead", now=NOW
    )
    root = f"test-storage-{uuid.uuid4().hex[:10]}"
    received: queue.Queue = queue.Queue()
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{root}-device")
    subscribed = queue.Queue()
    device.on_subscribe = lambda *args: subscribed.put(True)
    device.on_message = lambda c, u, m: received.put((m.topic, m.qos, json.loads(m.payload)))
    device.connect(BROKER.host, BROKER.port)
    device.loop_start()
    try:
        device.subscribe(f"{root}/+/schedule", qos=1)
        subscribed.get(timeout=5)

        dispatched = storage_schedule_dispatch(run_id=run.pk, now=NOW, mqtt_url=DISPATCH_URL, topic_root=root)

        messages = [received.get(timeout=5) for _ in range(5)]
    finally:
        device.loop_stop()
        device.disconnect()
    assert dispatched.acknowledged_units == 5
    assert dispatched.dispatched_at == NOW
    topics = sorted(topic for topic, _qos, _payload in messages)
    assert topics[0] == f"{root}/BAT-0/schedule"
    assert {qos for _topic, qos, _payload in messages} == {1}
    payload = next(p for t, _q, p in messages if t.endswith("BAT-LOAD/schedule"))
    assert payload["run"] == run.pk
    assert len(payload["intervals"]) == 48
    assert set(payload["intervals"][0]) == {"start", "chargeKw", "dischargeKw", "socKwh"}


def test_the_beat_task_schedules_the_configured_tariff(fleet, settings):
    from grid.tasks.storage import storage_schedules_due_task

    settings.GRID_STORAGE_TARIFF_CODE = ""
    assert storage_schedules_due_task(now=NOW.isoformat()) == []
    settings.GRID_STORAGE_TARIFF_CODE = fleet
    settings.GRID_STORAGE_DISPATCH = False

    result = storage_schedules_due_task(now=NOW.isoformat())

    assert [(r["kind"], r["status"]) for r in result] == [("day_ahead", "optimal")]
