"""Idempotency keys belong to the client that sent them (issue 10 item 6; RELIABILITY.md check 22)."""

import pytest

from billing.models import BillRun

BILL_RUN_START = """mutation($input: BillRunStartInput!) { billRunStart(input: $input) {
  ... on BillRun { id status periodStart periodEnd } ... on OperationInfo { messages { code field } } } }"""


def start(gql, period_start, period_end, key="feb"):
    variables = {"input": {"periodStart": period_start, "periodEnd": period_end, "idempotencyKey": key}}
    return gql(BILL_RUN_START, variables)["data"]["billRunStart"]


@pytest.mark.django_db
def test_another_client_reusing_a_key_gets_its_own_run(gql_as, make_token, staff):
    """Check 22: client B's key "feb" is not client A's; neither sees the other's run or period."""
    client_a = gql_as(make_token("billing:write"))
    client_b = gql_as(make_token("billing:write"))

    run_a = start(client_a, "2024-02-01", "2024-03-01")
    run_b = start(client_b, "2024-01-01", "2024-02-01")
    session = start(gql_as(staff), "2024-02-01", "2024-03-01")

    assert len({run_a["id"], run_b["id"], session["id"]}) == 3
    assert (run_b["periodStart"], run_b["periodEnd"]) == ("2024-01-01", "2024-02-01")
    assert start(client_a, "2024-02-01", "2024-03-01")["id"] == run_a["id"]  # A's replay: A's run
    assert BillRun.objects.filter(idempotency_key="feb").count() == 3
    clients = [BillRun.objects.get(pk=run["id"]).client for run in (run_a, run_b, session)]
    assert clients[0].startswith("app:")
    assert clients[1].startswith("app:")
    assert clients[0] != clients[1]
    assert clients[2] == f"user:{staff.pk}"
