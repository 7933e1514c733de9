"""`tariffComparison`, `tariffComparisonRunStart` and `tariffComparisonRun`: permission matrix (staff and
API clients only; customers refused) and the answer for a small cohort."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.models import Invoice, TariffComparisonRun
from tests.conftest import error_codes
from tests.functional.billing.test_invoice_operations import ALL_CALLERS
from tests.integration.billing.test_bill_runs import make_accounts, make_tariff, start_and_execute

pytestmark = pytest.mark.django_db

COMPARE = """query($input: TariffComparisonInput!) { tariffComparison(input: $input) {
  periodStart summaries { tariffCode accounts total mean winners losers billsGini savingsCv }
  bills { accountNumber tariffCode total heldReason } } }"""
RUN_START = """mutation($input: TariffComparisonInput!) { tariffComparisonRunStart(input: $input) {
  ... on TariffComparisonRun { id status } ... on OperationInfo { messages { code field } } } }"""
INPUT = {"tariffCodes": ["FLAT", "CHEAP"], "periodStart": "2024-10-01", "periodEnd": "2024-11-01"}


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "token_other_scope": ("metering:read", "metering:write"),
            "token_read": ("billing:read",),
            "token_write": ("billing:read", "billing:write"),
        },
    )


@pytest.fixture
def cohort():
    make_tariff("CHEAP", document={
        "format": "tariff/v1", "currency": "GBP", "timezone": "Europe/London",
        "energy": {"kind": "flat", "rate_per_kwh": "0.20"},
    })  # fmt: skip
    customers, _ = make_accounts(make_tariff("FLAT"), 2, prefix="CMP")
    return customers


EXPECTED = {
    "anonymous": "UNAUTHENTICATED",
    "bad_token": "UNAUTHENTICATED",
    "token_other_scope": "FORBIDDEN",
    "token_read": "allowed",
    "token_write": "allowed",
    "staff": "allowed",
    "customer_a": "FORBIDDEN",
    "customer_b": "FORBIDDEN",
}


@pytest.mark.parametrize(("caller", "expected"), [(c, EXPECTED[c]) for c in ALL_CALLERS], indirect=["caller"])
def test_tariff_comparison_is_for_staff_and_billing_readers(cohort, caller, expected):
    result = caller(COMPARE, {"input": INPUT})
    if expected != "allowed":
        assert error_codes(result) == [expected]
        assert (result.get("data") or {}).get("tariffComparison") is None
        return
    answer = result["data"]["tariffComparison"]
    by_code = {s["tariffCode"]: s for s in answer["summaries"]}
    assert set(by_code) == {"current", "FLAT", "CHEAP"}
    assert by_code["CHEAP"]["winners"] == 2
    assert by_code["FLAT"]["total"] == by_code["current"]["total"]
    assert by_code["current"]["billsGini"] == 0.0  # identical readings, identical bills
    assert len(answer["bills"]) == 2 * 3


def test_tariff_comparison_total_equals_the_bill_runs_invoices(cohort, gql_as, staff):
    start_and_execute()
    invoiced = sum(Invoice.objects.values_list("total_amount", flat=True), Decimal("0.00"))
    answer = gql_as(staff)(COMPARE, {"input": INPUT})["data"]["tariffComparison"]
    assert Decimal(answer["summaries"][0]["total"]) == invoiced


@pytest.mark.parametrize(
    ("caller", "expected"),
    [(c, {**EXPECTED, "token_read": "FORBIDDEN"}[c]) for c in ALL_CALLERS],
    indirect=["caller"],
)
def test_starting_a_stored_run_needs_billing_write(cohort, caller, expected):
    result = caller(RUN_START, {"input": INPUT})
    if expected != "allowed":
        assert error_codes(result) == [expected]
        assert not TariffComparisonRun.objects.exists()
        return
    run = result["data"]["tariffComparisonRunStart"]
    assert TariffComparisonRun.objects.get(pk=run["id"]).period_start == date(2024, 10, 1)


def test_unknown_tariffs_are_reported_with_the_field(cohort, gql_as, staff):
    result = gql_as(staff)(RUN_START, {"input": {**INPUT, "tariffCodes": ["NOPE"]}})
    assert result["data"]["tariffComparisonRunStart"]["messages"] == [
        {"code": "tariff_comparison_invalid", "field": "tariffCodes"}
    ]


def test_a_refused_comparison_is_an_error_with_its_code(cohort, gql_as, staff):
    result = gql_as(staff)(COMPARE, {"input": {**INPUT, "tariffCodes": ["NOPE"]}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["domainCode"] == "tariff_comparison_invalid"
    assert result["data"] is None or result["data"].get("tariffComparison") is None


HALVE_ABOVE_HALF = "tests.integration.billing.test_comparison_readings_and_response.halve_high_rate_hook"
SCENARIO = """query($input: TariffComparisonInput!) { tariffComparison(input: $input) {
  scenario summaries { tariffCode total } } }"""


@override_settings(BILLING_CONSUMER_RESPONSE=HALVE_ABOVE_HALF)
def test_consumer_response_bills_each_candidate_on_the_injected_models_consumption(cohort, gql_as, staff):
    make_tariff("PEAKY", document={
        "format": "tariff/v1", "currency": "GBP", "timezone": "Europe/London",
        "energy": {"kind": "flat", "rate_per_kwh": "0.60"},
    })  # fmt: skip
    query = gql_as(staff)
    variables = {**INPUT, "tariffCodes": ["CHEAP", "PEAKY"]}

    base = query(SCENARIO, {"input": variables})["data"]["tariffComparison"]
    responded = query(SCENARIO, {"input": {**variables, "consumerResponse": True}})
    responded = responded["data"]["tariffComparison"]

    totals = {s["tariffCode"]: s["total"] for s in base["summaries"]}
    after = {s["tariffCode"]: s["total"] for s in responded["summaries"]}
    # 2 accounts × 1490 half-hours × 0.1 kWh × 0.60 = 178.80; the hook halves energy priced above 0.5/kWh
    assert (base["scenario"], responded["scenario"]) == ("base", "scenario")
    assert (totals["PEAKY"], after["PEAKY"]) == ("178.80", "89.40")
    assert totals["CHEAP"] == after["CHEAP"] == "59.60"


@override_settings(BILLING_CONSUMER_RESPONSE="")
def test_a_consumer_response_run_without_a_model_is_refused_naming_the_field(cohort, gql_as, staff):
    result = gql_as(staff)(RUN_START, {"input": {**INPUT, "consumerResponse": True}})

    assert result["data"]["tariffComparisonRunStart"]["messages"] == [
        {"code": "tariff_comparison_invalid", "field": "consumerResponse"}
    ]
    assert not TariffComparisonRun.objects.exists()
