"""`billRun` says what happened to each account: the held ones with their reasons (docs/billing.md)."""

from datetime import date

import pytest

from billing.models import BillRun, BillRunItem
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

QUERY = """query($id: ID!, $outcome: BillRunItemOutcome) { billRun(id: $id) { heldCount
  items(outcome: $outcome) { totalCount edges { node { accountNumber outcome reason } } } } }"""


@pytest.fixture
def run(customer_a, customer_b):
    run = BillRun.objects.create(
        idempotency_key="run-items",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        status=BillRun.Status.COMPLETED,
        held_count=1,
        invoice_count=1,
    )
    BillRunItem.objects.create(
        bill_run=run,
        customer=customer_b,
        outcome=BillRunItem.Outcome.HELD,
        reason="Meter M-B1: no reading for 2024-01-03T00:00Z, 2024-01-03T00:30Z",
    )
    BillRunItem.objects.create(bill_run=run, customer=customer_a, outcome=BillRunItem.Outcome.INVOICED)
    return run


def test_bill_run_lists_the_held_accounts_with_their_reasons(run, gql_as, make_token):
    """Issue 10, item 21: `billRun` says why accounts were held."""
    result = gql_as(make_token("billing:read"))(QUERY, {"id": str(run.pk), "outcome": "HELD"})

    assert result == {
        "data": {
            "billRun": {
                "heldCount": 1,
                "items": {
                    "totalCount": 1,
                    "edges": [
                        {
                            "node": {
                                "accountNumber": "ACC-B",
                                "outcome": "HELD",
                                "reason": "Meter M-B1: no reading for 2024-01-03T00:00Z, 2024-01-03T00:30Z",
                            }
                        }
                    ],
                },
            }
        }
    }


def test_bill_run_lists_every_item_by_account_number(run, gql_as, make_token):
    result = gql_as(make_token("billing:read"))(QUERY, {"id": str(run.pk)})

    nodes = [e["node"] for e in result["data"]["billRun"]["items"]["edges"]]
    assert [(n["accountNumber"], n["outcome"]) for n in nodes] == [("ACC-A", "INVOICED"), ("ACC-B", "HELD")]


def test_bill_run_items_are_not_customer_data(run, gql_as, customer_a):
    result = gql_as(customer_a.user)(QUERY, {"id": str(run.pk)})

    assert error_codes(result) == ["FORBIDDEN"]
