"""Query limits (depth, aliases, tokens) reject before any database query; errors are masked;
introspection and GraphiQL are for staff only; session posts need a CSRF token."""

import json

import pytest
from django.test import Client

from tests.conftest import error_codes

pytestmark = pytest.mark.django_db


def _nested(depth: int) -> str:
    inner = "accountNumber"
    for _ in range(depth):
        inner = f'customer(accountNumber: "A") {{ {inner} }}'
    return "query { " + inner + " }"


@pytest.mark.parametrize("caller", ["anonymous", "token"])
def test_too_deep_query_is_rejected_without_touching_the_database(
    caller, gql_as, make_token, django_assert_num_queries
):
    gql = gql_as(make_token("billing:read") if caller == "token" else "anonymous")

    with django_assert_num_queries(0):
        result = gql(_nested(12))

    assert "data" not in result or result["data"] is None
    assert any("exceeds maximum operation depth" in e["message"] for e in result["errors"])


def test_too_many_aliases_are_rejected_without_touching_the_database(
    gql_as, make_token, django_assert_num_queries
):
    gql = gql_as(make_token("billing:read"))
    aliases = " ".join(f'a{i}: customer(accountNumber: "A") {{ name }}' for i in range(16))

    with django_assert_num_queries(0):
        result = gql("query { " + aliases + " }")

    assert result["data"] is None
    assert "16 aliases found" in result["errors"][0]["message"]


def test_too_many_tokens_are_rejected_without_touching_the_database(
    gql_as, make_token, django_assert_num_queries
):
    gql = gql_as(make_token("billing:read"))
    query = "query { " + " ".join(["__typename"] * 4100) + " }"

    with django_assert_num_queries(0):
        result = gql(query)

    assert "more than 4000 tokens" in result["errors"][0]["message"]


def test_limits_leave_ordinary_queries_alone(gql_as, make_token, customer_a):
    result = gql_as(make_token("billing:read"))('{ a: customer(accountNumber: "ACC-A") { name } }')

    assert result == {"data": {"a": {"name": "Alice Able"}}}


def test_unexpected_errors_are_masked_and_logged(gql_as, make_token, monkeypatch, caplog):
    def broken(**_kwargs):
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr("billing.selectors.customers.customer_get", broken)

    result = gql_as(make_token("billing:read"))('{ customer(accountNumber: "ACC-A") { name } }')

    assert result["errors"][0]["message"] == "Unexpected error."
    assert error_codes(result) == ["INTERNAL_SERVER_ERROR"]
    assert "secret" not in json.dumps(result)
    assert "connection string" in caplog.text


def test_unexpected_errors_in_mutations_are_masked(gql_as, make_token, monkeypatch):
    def broken(**_kwargs):
        raise KeyError("internal detail")

    monkeypatch.setattr("billing.services.customers.customer_create", broken)

    result = gql_as(make_token("billing:write"))(
        'mutation { customerCreate(input: {accountNumber: "ACC-Z", name: "Z"}) { __typename } }'
    )

    assert result["errors"][0]["message"] == "Unexpected error."
    assert "internal detail" not in json.dumps(result)


def test_syntax_errors_are_reported_as_validation_failures(gql_as, make_token):
    result = gql_as(make_token("billing:read"))("query { customer(")

    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(("caller", "allowed"), [("anonymous", False), ("token", False), ("staff", True)])
def test_introspection_is_for_staff_only(caller, allowed, gql_as, make_token, staff):
    who = {"anonymous": "anonymous", "token": make_token("billing:read"), "staff": staff}[caller]

    result = gql_as(who)("{ __schema { queryType { name } } }")

    if allowed:
        assert result == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    else:
        assert error_codes(result) == ["FORBIDDEN"]


def test_graphiql_is_served_to_staff_only(client, staff):
    anonymous = client.get("/graphql/", headers={"Accept": "text/html"})
    client.force_login(staff)
    signed_in = client.get("/graphql/", headers={"Accept": "text/html"})

    assert anonymous.status_code == 404
    assert signed_in.status_code == 200
    assert b"graphiql" in signed_in.content.lower()


def test_session_posts_need_a_csrf_token_but_bearer_posts_do_not(staff, make_token):
    session = Client(enforce_csrf_checks=True)
    session.force_login(staff)
    body = json.dumps({"query": "{ __typename }"})

    without_csrf = session.post("/graphql/", data=body, content_type="application/json")
    bearer = Client(enforce_csrf_checks=True).post(
        "/graphql/",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {make_token('billing:read').token}"},
    )

    assert without_csrf.status_code == 403
    assert bearer.status_code == 200
    assert bearer.json() == {"data": {"__typename": "Query"}}


def test_queries_over_get_are_refused(client):
    response = client.get("/graphql/", {"query": "{ __typename }"})

    assert response.status_code in (400, 405)
