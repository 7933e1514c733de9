"""Storage and balancing over GraphQL: grid:read / grid:write permission matrix, operations end to end."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from grid.models import BalancingRun, BatteryAsset, FeederLimit, ScheduleRun
from grid.services.storage import battery_asset_upsert
from metering.services.readings import meter_point_create
from pricing.services.dynamic import announced_rates_publish
from tests.conftest import error_codes
from tests.factories.pricing import announced, make_announced_dtou_tariff

pytestmark = pytest.mark.django_db
DAY = date(2013, 1, 15)

READ_MATRIX = [
    ("anonymous", "UNAUTHENTICATED"),
    ("bad_token", "UNAUTHENTICATED"),
    ("other", "FORBIDDEN"),
    ("customer", "FORBIDDEN"),
    ("write", "FORBIDDEN"),
    ("read", None),
    ("staff", None),
]
WRITE_MATRIX = [
    ("anonymous", "UNAUTHENTICATED"),
    ("bad_token", "UNAUTHENTICATED"),
    ("other", "FORBIDDEN"),
    ("read", "FORBIDDEN"),
    ("customer", "FORBIDDEN"),
    ("write", None),
    ("staff", None),
]


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {"read": ("grid:read",), "write": ("grid:write",), "other": ("pricing:read", "billing:write")},
    )


@pytest.fixture
def fleet():
    tariff = make_announced_dtou_tariff("DTOU")
    announced_rates_publish(
        tariff_code=tariff, day=DAY, rates=announced(DAY), now=datetime(2013, 1, 14, tzinfo=UTC)
    )
    for k in range(2):
        meter_point_create(identifier=f"MP-{k}", feeder_code="F1", has_pv=True)
        battery_asset_upsert(
            code=f"BAT-{k}",
            meter_point_identifier=f"MP-{k}",
            capacity_kwh=Decimal("10"),
            power_kw=Decimal("3"),
            soc_max_kwh=Decimal("9"),
            soc_initial_kwh=Decimal("5"),
            pv_peak_kw=Decimal("3"),
        )
    return tariff


ASSETS = 'query { batteryAssets(feederCode: "F1") { code feederCode capacityKwh socInitialKwh } }'
RUN = """mutation($input: StorageScheduleRunInput!) {
  storageScheduleRun(input: $input) { id status units intervals objective feedersCoupled
    selfConsumptionWithoutPct selfConsumptionWithPct
    rows(unit: "BAT-0") { intervalStart chargeKw dischargeKw socKwh } }
}"""
UPSERT = """mutation($input: BatteryAssetUpsertInput!) {
  batteryAssetUpsert(input: $input) { code meterPointIdentifier powerKw }
}"""
LIMIT = """mutation($input: FeederLimitSetInput!) {
  feederLimitSet(input: $input) { feederCode importLimitKw }
}"""
WHAT_IF = """query($day: Date!, $bands: [String!]!) {
  priceSignalWhatIf(day: $day, bands: $bands, feederCodes: ["F1"]) { peakBeforeKw peakAfterKw peakChangePct
    feeders { feederCode } }
}"""
BALANCE = """mutation($input: BalancingRunCreateInput!) {
  balancingRunCreate(input: $input) {
    id status peakBeforeKw peakAfterKw shedKwhWithoutSignal publicationRevision
  }
}"""
RUN_INPUT = {
    "input": {
        "tariffCode": "DTOU",
        "periodStart": "2013-01-15T00:00:00Z",
        "periodEnd": "2013-01-16T00:00:00Z",
    }
}


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_battery_assets_permissions(fleet, caller, denied):
    result = caller(ASSETS)

    if denied:
        assert error_codes(result) == [denied]
    else:
        assert [a["code"] for a in result["data"]["batteryAssets"]] == ["BAT-0", "BAT-1"]
        assert result["data"]["batteryAssets"][0]["capacityKwh"] == "10.00"


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_storage_schedule_run_permissions(fleet, caller, denied):
    result = caller(RUN, RUN_INPUT)

    if denied:
        assert error_codes(result) == [denied]
        assert not ScheduleRun.objects.exists()
    else:
        run = result["data"]["storageScheduleRun"]
        assert run["status"] == "optimal"
        assert (run["units"], run["intervals"]) == (2, 48)
        assert len(run["rows"]) == 48
        assert run["selfConsumptionWithPct"] >= run["selfConsumptionWithoutPct"]


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_battery_asset_upsert_and_feeder_limit_permissions(fleet, caller, denied):
    asset = {
        "code": "BAT-0",
        "meterPointIdentifier": "MP-0",
        "capacityKwh": "10",
        "powerKw": "4.5",
        "socMaxKwh": "9",
        "socInitialKwh": "4",
    }

    upserted = caller(UPSERT, {"input": asset})
    limited = caller(LIMIT, {"input": {"feederCode": "F1", "importLimitKw": "5", "exportLimitKw": "5"}})

    if denied:
        assert error_codes(upserted) == [denied]
        assert error_codes(limited) == [denied]
        assert BatteryAsset.objects.get(code="BAT-0").power_kw == Decimal("3")
        assert not FeederLimit.objects.exists()
    else:
        assert upserted["data"]["batteryAssetUpsert"]["powerKw"] == "4.50"
        assert limited["data"]["feederLimitSet"] == {"feederCode": "F1", "importLimitKw": "5.00"}


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_price_signal_what_if_permissions(fleet, caller, denied):
    result = caller(WHAT_IF, {"day": "2013-01-15", "bands": ["Normal"] * 48})

    if denied:
        assert error_codes(result) == [denied]
    else:
        assert result["data"]["priceSignalWhatIf"]["feeders"] == [{"feederCode": "F1"}]
        assert result["data"]["priceSignalWhatIf"]["peakChangePct"] == 0.0


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_balancing_run_create_permissions(fleet, caller, denied):
    result = caller(BALANCE, {"input": {"tariffCode": "DTOU", "day": "2013-01-16", "feederCodes": ["F1"]}})

    if denied:
        assert error_codes(result) == [denied]
        assert not BalancingRun.objects.exists()
    else:
        assert result["data"]["balancingRunCreate"]["publicationRevision"] is None


def test_a_battery_on_an_unknown_meter_point_is_refused_with_its_field(fleet, gql_as, make_token):
    asset = {
        "code": "X",
        "meterPointIdentifier": "NOPE",
        "capacityKwh": "1",
        "powerKw": "1",
        "socMaxKwh": "1",
        "socInitialKwh": "1",
    }

    result = gql_as(make_token("grid:write"))(UPSERT, {"input": asset})

    assert error_codes(result) == ["unable_to_schedule"] or result["errors"]
    assert not BatteryAsset.objects.filter(code="X").exists()


SCENARIO_BALANCING = """query($id: ID!) { scenarioBalancing(scenarioId: $id) {
  units peakBaseMw peakWithBalancingMw peakWithStorageMw shedMw residualShedMw batteryMw } }"""
RUNS = "query { scheduleRuns(limit: 5) { id status jobsTotal jobsDone } }"


@pytest.fixture
def scenario_balancing():
    from grid.models import Network, Scenario, ScenarioBalancing

    network = Network.objects.create(name="n", source="PANDAPOWER")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    scenario = Scenario.objects.create(network=network, kind="EVENING_RAMP", day_start=now, created_at=now)
    ScenarioBalancing.objects.create(
        scenario=scenario,
        bands=["Normal"] * 96,
        battery_mw=[0.0] * 96,
        units=3,
        peak_base_mw=2.0,
        target_mw=1.5,
        shed_mw=0.5,
        peak_with_balancing_mw=1.8,
        peak_with_storage_mw=1.7,
        residual_shed_mw=0.2,
        created_at=now,
    )
    return scenario


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_scenario_balancing_permissions(scenario_balancing, caller, denied):
    result = caller(SCENARIO_BALANCING, {"id": str(scenario_balancing.pk)})

    if denied:
        assert error_codes(result) == [denied]
    else:
        found = result["data"]["scenarioBalancing"]
        assert (found["units"], found["shedMw"], found["residualShedMw"]) == (3, 0.5, 0.2)
        assert found["peakWithStorageMw"] < found["peakWithBalancingMw"] < found["peakBaseMw"]
        assert len(found["batteryMw"]) == 96


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_schedule_runs_report_progress(fleet, caller, denied):
    from grid.services.storage import storage_schedule_run

    storage_schedule_run(
        tariff_code="DTOU",
        period_start=datetime(2013, 1, 15, tzinfo=UTC),
        period_end=datetime(2013, 1, 16, tzinfo=UTC),
        kind="what_if",
        now=datetime(2013, 1, 14, tzinfo=UTC),
    )

    result = caller(RUNS)

    if denied:
        assert error_codes(result) == [denied]
    else:
        assert [(r["status"], r["jobsTotal"], r["jobsDone"]) for r in result["data"]["scheduleRuns"]] == [
            ("optimal", 0, 0)  # solved in process: no subproblems sent to workers
        ]
