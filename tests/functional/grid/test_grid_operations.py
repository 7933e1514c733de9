"""Grid GraphQL operations: permission matrices (grid:read / grid:write), power flow run and violations,
shedding plan approve (audited) and its OpenADR events, scenario start and result."""

import datetime as dt

import pytest
from auditlog.models import LogEntry

from grid.models import SheddingPlan
from grid.services.network import network_cache_clear, network_get, network_import
from grid.services.scenarios import scenario_create, scenario_run
from grid.services.shedding import shedding_plan_create
from tests.conftest import WRITE_MATRIX, error_codes
from tests.factories.grid import small_net

pytestmark = pytest.mark.django_db

RUN = """mutation($input: PowerFlowRunInput!) { powerFlowRun(input: $input) {
  ... on PowerFlowRun { id network converged buses violationCount
    violations(first: 5) { element kind value limit } }
  ... on OperationInfo { messages { code field message } } } }"""
APPROVE = """mutation($input: SheddingPlanInput!) { sheddingPlanApprove(input: $input) {
  ... on SheddingPlan { id status } ... on OperationInfo { messages { code field message } } } }"""
PLANS = """query { sheddingPlans(network: "small") { totalCount edges { node {
  id status feasible shedMw criticalShed
  loads { loadName priority pMw } } } } }"""
EVENTS = """query($id: ID!) { openadrEvents(planId: $id) }"""
SCENARIO = """query($id: ID!) { scenario(id: $id) {
  kind status violationSteps steps { intervalStart violationCount } } }"""
NETWORKS = """query { gridNetworks { totalCount edges { node { name source } } } }"""

READ_MATRIX = [
    ("anonymous", "UNAUTHENTICATED"),
    ("bad_token", "UNAUTHENTICATED"),
    ("other", "FORBIDDEN"),
    ("customer", "FORBIDDEN"),
    ("read", None),
    ("staff", None),
]


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
def plan(network):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return shedding_plan_create(network=network, as_of=now, now=now, load_scale=3.0, sgen_scale=0.0).plan


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {"read": ("grid:read",), "write": ("grid:write",), "other": ("billing:read", "billing:write")},
    )


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_power_flow_run_permissions_and_result(network, caller, denied):
    result = caller(RUN, {"input": {"network": "small", "loadScale": 3.0, "sgenScale": 0.0}})

    if denied:
        assert error_codes(result) == [denied]
        return
    run = result["data"]["powerFlowRun"]
    assert run["converged"] is True
    assert run["buses"] == 14
    assert run["violationCount"] > 0
    assert {"element", "kind", "value", "limit"} <= set(run["violations"][0])


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_shedding_plan_approve_permissions_nothing_changes_on_denial(plan, caller, denied):
    result = caller(APPROVE, {"input": {"id": str(plan.pk)}})

    plan.refresh_from_db()
    if denied:
        assert error_codes(result) == [denied]
        assert plan.status == SheddingPlan.Status.PROPOSED
        return
    assert result["data"]["sheddingPlanApprove"]["status"] == "approved"
    assert plan.status == SheddingPlan.Status.APPROVED
    assert LogEntry.objects.get_for_object(plan).filter(action=LogEntry.Action.UPDATE).exists()


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_plans_and_openadr_events_need_grid_read(plan, caller, denied):
    plans = caller(PLANS)
    events = caller(EVENTS, {"id": str(plan.pk)})

    if denied:
        assert error_codes(plans) == [denied]
        assert error_codes(events) == [denied]
        return
    node = plans["data"]["sheddingPlans"]["edges"][0]["node"]
    assert node["feasible"] is True
    assert node["criticalShed"] == 0
    assert node["shedMw"] == pytest.approx(sum(row["pMw"] for row in node["loads"]))
    first = events["data"]["openadrEvents"][0]
    assert first["objectType"] == "EVENT"
    assert first["intervals"][0]["payloads"][0] == {"type": "IMPORT_CAPACITY_LIMIT", "values": [0.0]}
    assert len(events["data"]["openadrEvents"]) == len(node["loads"])


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_networks_need_grid_read(network, caller, denied):
    result = caller(NETWORKS)

    if denied:
        assert error_codes(result) == [denied]
        return
    assert result["data"]["gridNetworks"]["edges"][0]["node"] == {"name": "small", "source": "pandapower"}


def test_scenario_result_is_read_per_step(network, gql_as, make_token):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    scenario = scenario_create(
        network=network,
        kind="evening_ramp",
        day_start=dt.datetime(2026, 1, 15, tzinfo=dt.UTC),
        parameters={"load_rise": 1.5},
        now=now,
    )
    scenario_run(scenario_id=scenario.pk, now=now)

    result = gql_as(make_token("grid:read"))(SCENARIO, {"id": str(scenario.pk)})

    data = result["data"]["scenario"]
    assert data["status"] == "completed"
    assert len(data["steps"]) == 96
    assert data["violationSteps"] == sum(1 for s in data["steps"] if s["violationCount"])
