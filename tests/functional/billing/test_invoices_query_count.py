"""`invoices` costs the same number of queries whatever the page size: the optimizer joins the customer
and prefetches the lines of the whole page at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.services.customers import customer_create
from tests.functional.billing.test_invoice_lifecycle import make_invoice

pytestmark = pytest.mark.django_db

INVOICES = """query($first: Int!, $after: String) { invoices(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { number accountNumber periodStart periodEnd status currency netAmount taxAmount
    totalAmount lines { kind band description quantity unit unitPrice amount } } } } }"""
CUSTOMER = """query($first: Int!) { customer(accountNumber: "ACC-0") { accountNumber agreements { tariffCode }
  invoices(first: $first) { totalCount edges { node { number lines { kind amount } } } } } }"""


@pytest.fixture
def invoices():
    customers = [customer_create(account_number=f"ACC-{i}", name=f"Customer {i}") for i in range(6)]
    for month in range(1, 11):
        for customer in customers:
            make_invoice(customer, month=month, lines=4)


def run_counting(gql, query, variables) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as captured:
        result = gql(query, variables)
    assert "errors" not in result, result
    return result, len(captured.captured_queries)


def test_the_query_count_is_the_same_for_5_and_50_invoices(
    invoices, gql_as, staff, django_assert_num_queries
):
    gql = gql_as(staff)

    small, small_count = run_counting(gql, INVOICES, {"first": 5})
    large, large_count = run_counting(gql, INVOICES, {"first": 50})

    assert len(small["data"]["invoices"]["edges"]) == 5
    assert len(large["data"]["invoices"]["edges"]) == 50
    assert all(len(e["node"]["lines"]) == 4 for e in large["data"]["invoices"]["edges"])
    assert large["data"]["invoices"]["totalCount"] == 60
    assert small_count == large_count <= 8
    with django_assert_num_queries(large_count):
        gql(INVOICES, {"first": 50})


def test_pages_follow_on_without_gaps_or_repeats(invoices, gql_as, make_token):
    gql = gql_as(make_token("billing:read"))
    seen, after = [], None

    while True:
        page = gql(INVOICES, {"first": 25, "after": after})["data"]["invoices"]
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert len(seen) == len(set(seen)) == 60


def test_the_nested_customer_invoices_cost_the_same_for_any_page_size(invoices, gql_as, staff):
    gql = gql_as(staff)

    _, small_count = run_counting(gql, CUSTOMER, {"first": 2})
    large, large_count = run_counting(gql, CUSTOMER, {"first": 10})

    assert len(large["data"]["customer"]["invoices"]["edges"]) == 10
    assert small_count == large_count
