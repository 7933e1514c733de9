"""Client mistakes get a validation error naming the argument, never INTERNAL_SERVER_ERROR or a logged
traceback; suggestions are hidden from non-staff callers; oversized bodies are refused before parsing."""

import json
import logging

import pytest
from django.test import Client

from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

INGEST = (
    'mutation { readingsIngest(input: {meterSerial: "X", readings: [{intervalStart: "2024-01-01T00:00:00Z", '
    'intervalEnd: "2024-01-01T00:30:00Z", kwh: %s}]}) { __typename } }'
)
INGEST_VARIABLES = (
    'mutation($kwh: Decimal!) { readingsIngest(input: {meterSerial: "X", readings: [{intervalStart: '
    '"2024-01-01T00:00:00Z", intervalEnd: "2024-01-01T00:30:00Z", kwh: $kwh}]}) { __typename } }'
)
INVOICES = "{ invoices(%s) { totalCount edges { node { number } } } }"
INVOICES_VARIABLES = (
    "query($first: Int, $after: String) { invoices(first: $first, after: $after) { totalCount } }"
)
NESTED_INVOICES = '{ customer(accountNumber: "ACC-A") { invoices(%s) { totalCount } } }'


def _assert_client_error(result: dict, argument: str, caplog) -> None:
    assert result.get("data") is None or all(v is None for v in result["data"].values())
    assert error_codes(result) == ["BAD_USER_INPUT"] * len(result["errors"]), result
    assert any(argument in json.dumps(e) for e in result["errors"]), result
    assert "INTERNAL_SERVER_ERROR" not in json.dumps(result)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        (INVOICES % "first: -1", "first"),
        (INVOICES % "first: 100000", "first"),
        (INVOICES % "last: 101", "last"),
        (INVOICES % 'after: "garbage!!"', "after"),
        (INVOICES % 'after: "YXJyYXljb25uZWN0aW9uOmFiYw=="', "after"),  # base64 of "arrayconnection:abc"
        (INVOICES % 'before: "\\u0000"', "before"),
        (NESTED_INVOICES % "first: -1", "first"),
        (NESTED_INVOICES % 'after: "x"', "after"),
        ('{ customer(accountNumber: "A\\u0000B") { name } }', "accountNumber"),
        ('{ invoice(number: "\\u0000") { number } }', "number"),
        (INGEST % '"NaN"', "input.readings.kwh"),
        (INGEST % "1.5", "input.readings.kwh"),
        (INGEST % '"1_000"', "input.readings.kwh"),
        (INGEST % '"1e-400"', "input.readings.kwh"),
        (INGEST % '"-0"', "input.readings.kwh"),
        (INGEST % '"١٢"', "input.readings.kwh"),
        (INGEST % ('"' + "9" * 40 + '"'), "input.readings.kwh"),
        (INGEST % ("9" * 40), "input.readings.kwh"),
    ],
)
def test_client_mistakes_in_the_document_are_validation_errors_naming_the_argument(
    query, argument, gql_as, make_token, customer_a, caplog
):
    """RELIABILITY checks 5 (pagination caps), 7 (error masking: no 5xx for client input) and 11 (decimal
    input hardening), literal arguments."""
    gql = gql_as(make_token("billing:read", "metering:write"))

    result = gql(query)

    _assert_client_error(result, argument, caplog)


@pytest.mark.parametrize(
    ("query", "variables", "argument"),
    [
        (INVOICES_VARIABLES, {"first": -1}, "first"),
        (INVOICES_VARIABLES, {"first": 100_000}, "first"),
        (INVOICES_VARIABLES, {"after": "garbage"}, "after"),
        (INVOICES_VARIABLES, {"after": "a\u0000"}, "$after"),
        (INGEST_VARIABLES, {"kwh": "NaN"}, "$kwh"),
        (INGEST_VARIABLES, {"kwh": 1.5}, "$kwh"),
        (INGEST_VARIABLES, {"kwh": "1e-400"}, "$kwh"),
        (INGEST_VARIABLES, {"kwh": "1" * 100_000}, "$kwh"),
    ],
)
def test_client_mistakes_in_variables_are_validation_errors_naming_the_variable(
    query, variables, argument, gql_as, make_token, caplog
):
    """RELIABILITY checks 5, 7 and 11 through variables."""
    gql = gql_as(make_token("billing:read", "metering:write"))

    result = gql(query, variables)

    _assert_client_error(result, argument, caplog)


@pytest.mark.parametrize("field", ["invoices(first: %s) { totalCount }", "invoice(number: %s) { number }"])
def test_an_integer_literal_of_thousands_of_digits_is_refused_not_crashed(field, gql_as, make_token, caplog):
    """RELIABILITY checks 7 and 11: a 5,000-digit number is a validation failure, not an unmasked error."""
    result = gql_as(make_token("billing:read"))("{ " + field % ("9" * 5000) + " }")

    assert result.get("data") is None
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "set_int_max_str_digits" not in json.dumps(result)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_page_at_the_cap_is_served(gql_as, make_token, customer_a):
    """RELIABILITY check 5: the documented maximum page (100) is accepted."""
    result = gql_as(make_token("billing:read"))(INVOICES % "first: 100")

    assert result == {"data": {"invoices": {"totalCount": 0, "edges": []}}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ invoicez }", None),
        ('{ invoice(numbr: "1") { number } }', None),
        ("{ invoices(status: ISSUEX) { totalCount } }", None),
        ("query($s: InvoiceStatus) { invoices(status: $s) { totalCount } }", {"s": "ISSUEX"}),
    ],
)
@pytest.mark.parametrize("caller", ["anonymous", "token", "customer"])
def test_errors_make_no_suggestions_to_non_staff_callers(
    query, variables, caller, gql_as, make_token, customer_a
):
    """RELIABILITY check 6: the misspelling error contains no "Did you mean"."""
    who = {"anonymous": "anonymous", "token": make_token("billing:read"), "customer": customer_a.user}[caller]

    result = gql_as(who)(query, variables)

    assert result["errors"]
    assert "Did you mean" not in json.dumps(result)


def test_staff_still_get_suggestions(gql_as, staff):
    result = gql_as(staff)("{ invoicez }")

    assert "Did you mean 'invoice'" in result["errors"][0]["message"]


def test_an_oversized_body_is_refused_before_parsing(django_assert_num_queries):
    """RELIABILITY check 3: a 1 MB query document is refused by the size limit, unparsed (413)."""
    body = json.dumps({"query": "{ " + "__typename " * 100_000 + "}"})
    assert len(body) > 1_000_000

    with django_assert_num_queries(0):
        response = Client().post("/graphql/", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


def test_a_body_under_the_cap_is_served():
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 200_000}})

    response = Client().post("/graphql/", data=body, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
