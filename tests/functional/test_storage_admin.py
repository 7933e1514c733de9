"""Storage admin: a unit's day and the fleet's net load before/after, as server-rendered SVG."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from grid.models import BatteryAsset
from grid.services.storage import battery_asset_upsert, storage_schedule_run
from metering.services.readings import meter_point_create
from pricing.services.dynamic import announced_rates_publish
from tests.factories.pricing import announced, make_announced_dtou_tariff

pytestmark = pytest.mark.django_db
DAY = date(2013, 1, 15)
START = datetime(2013, 1, 15, tzinfo=UTC)


@pytest.fixture
def run():
    make_announced_dtou_tariff("DTOU")
    announced_rates_publish(tariff_code="DTOU", day=DAY, rates=announced(DAY), now=START - timedelta(hours=6))
    meter_point_create(identifier="MP-A", feeder_code="F1", has_pv=True)
    battery_asset_upsert(
        code="BAT-A",
        meter_point_identifier="MP-A",
        capacity_kwh=Decimal("10"),
        power_kw=Decimal("3"),
        soc_max_kwh=Decimal("9"),
        soc_initial_kwh=Decimal("5"),
        pv_peak_kw=Decimal("4"),
    )
    return storage_schedule_run(
        tariff_code="DTOU",
        period_start=START,
        period_end=START + timedelta(days=1),
        kind="day_ahead",
        now=START,
    )


def test_a_runs_page_draws_the_fleets_net_load_before_and_after(client, staff, run):
    client.force_login(staff)

    page = client.get(f"/admin/grid/schedulerun/{run.pk}/change/").content.decode()

    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" width="720"') == 1
    assert page.count("<polyline") == 2
    assert "before (load − PV)" in page
    assert '<script src="http' not in page


def test_an_assets_page_draws_its_latest_day_and_changes_are_audited(client, staff, run):
    client.force_login(staff)
    asset = BatteryAsset.objects.get(code="BAT-A")

    page = client.get(f"/admin/grid/batteryasset/{asset.pk}/change/").content.decode()

    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" width="720"') == 2
    assert "BAT-A: state of charge" in page
    assert LogEntry.objects.get_for_object(asset).exists()


def test_the_runs_list_shows_progress_and_a_scenarios_balancing_page_draws_the_batteries(client, staff, run):
    from grid.models import Network, Scenario, ScenarioBalancing

    network = Network.objects.create(name="n", source="PANDAPOWER")
    scenario = Scenario.objects.create(
        network=network, kind="EVENING_RAMP", day_start=START, created_at=START
    )
    record = ScenarioBalancing.objects.create(
        scenario=scenario,
        battery_mw=[0.0, 0.01, -0.01],
        peak_base_mw=1.0,
        target_mw=0.9,
        peak_with_balancing_mw=0.95,
        peak_with_storage_mw=0.94,
        created_at=START,
    )
    client.force_login(staff)

    runs = client.get("/admin/grid/schedulerun/").content.decode()
    page = client.get(f"/admin/grid/scenariobalancing/{record.pk}/change/").content.decode()

    assert "in process" in runs  # solved in process, not fanned out to workers
    assert page.count("<polyline") == 1
    assert f"Scenario {scenario.pk}: batteries next to shedding" in page
