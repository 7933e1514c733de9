"""A grid scenario stores what price balancing and the batteries on its feeders would do, next to its
shedding plan: the peak with balancing, with balancing and batteries, and what shedding still has to cut."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from grid.models import ScenarioBalancing
from grid.services.feeders import network_feeders_map
from grid.services.network import network_cache_clear, network_get, network_import
from grid.services.scenarios import scenario_create, scenario_run
from grid.services.storage import battery_asset_upsert
from metering.services.readings import meter_point_create
from tests.factories.grid import small_net

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def network():
    network_cache_clear()
    network_import(name="small", net=small_net())
    network = network_get(name="small")
    network_feeders_map(network=network, feeder_codes=["A", "B"])
    yield network
    network_cache_clear()


def batteries(count: int, feeder: str = "A") -> None:
    for k in range(count):
        meter_point_create(identifier=f"MP-{feeder}{k}", feeder_code=feeder, has_pv=False)
        battery_asset_upsert(
            code=f"BAT-{feeder}{k}",
            meter_point_identifier=f"MP-{feeder}{k}",
            capacity_kwh=Decimal("13.5"),
            power_kw=Decimal("5"),
            soc_max_kwh=Decimal("13.5"),
            soc_initial_kwh=Decimal("6.75"),
        )


def run_ramp(network) -> ScenarioBalancing:
    scenario = scenario_create(
        network=network,
        kind="evening_ramp",
        day_start=dt.datetime(2026, 1, 15, tzinfo=dt.UTC),
        parameters={"load_rise": 3.0},
        now=NOW,
    )
    scenario = scenario_run(scenario_id=scenario.pk, now=NOW)
    return ScenarioBalancing.objects.get(scenario=scenario)


def test_an_evening_ramp_records_balancing_and_batteries_next_to_its_shedding_plan(network):
    batteries(6, "A")
    batteries(2, "ELSEWHERE")  # not on the network's feeders: not counted

    record = run_ramp(network)

    scenario = record.scenario
    assert scenario.peak_shed_mw > 0  # the ramp overloads the network, so there is a plan
    assert record.shed_mw == pytest.approx(scenario.peak_shed_mw)
    assert record.units == 6
    assert len(record.bands) == len(record.battery_mw) == 96
    assert "High" in record.bands
    assert record.peak_with_balancing_mw < record.peak_base_mw
    assert record.peak_with_storage_mw < record.peak_with_balancing_mw
    battery = np.array(record.battery_mw)
    assert battery.max() == pytest.approx(0.030)  # six 5 kW batteries at full power at the peak
    assert record.battery_discharge_mwh > 0
    assert record.battery_charge_mwh == pytest.approx(record.battery_discharge_mwh / 0.95 / 0.95)
    assert 0 <= record.residual_shed_mw < record.shed_mw  # balancing and batteries leave less to shed


def test_without_batteries_only_the_price_signal_acts(network):
    record = run_ramp(network)

    assert record.units == 0
    assert record.battery_discharge_mwh == 0
    assert record.peak_with_storage_mw == pytest.approx(record.peak_with_balancing_mw)
