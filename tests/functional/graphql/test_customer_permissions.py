"""Permission matrix of `customer`, `customerCreate` and `me`: anonymous, bad/expired/revoked token,
token without scope, token with scope, staff session, customer sessions A and B."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Customer
from tests.conftest import error_codes

CUSTOMER = 'query { customer(accountNumber: "ACC-A") { accountNumber name } }'
CREATE = """
mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) {
    ... on Customer { accountNumber name }
    ... on OperationInfo { messages { kind code field message } }
  }
}"""
ME = "query { me { accountNumber } }"
NEW = {"input": {"accountNumber": "NEW-1", "name": "New Customer", "email": "new@example.org"}}

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(request, gql_as, make_token, staff, customer_a, customer_b):
    """Build the caller named by the test parameter."""
    name = request.param
    if name == "expired_token":
        return gql_as(make_token("billing:read", "billing:write", expires_in=-1))
    if name == "revoked_token":
        token = make_token("billing:read", "billing:write")
        token.revoke()
        return gql_as(token)
    if name == "token_other_scope":
        return gql_as(make_token("metering:read", "metering:write"))
    if name == "token_read_only":
        return gql_as(make_token("billing:read"))
    if name == "token_billing":
        return gql_as(make_token("billing:read", "billing:write"))
    who = {"staff": staff, "customer_a": customer_a.user, "customer_b": customer_b.user}.get(name, name)
    return gql_as(who)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("bad_token", "UNAUTHENTICATED"),
        ("expired_token", "UNAUTHENTICATED"),
        ("revoked_token", "UNAUTHENTICATED"),
        ("token_other_scope", "FORBIDDEN"),
        ("token_billing", "ACC-A"),
        ("staff", "ACC-A"),
        ("customer_a", "ACC-A"),
        # Another customer's account is absent: NOT_FOUND, as for one that does not exist.
        ("customer_b", "NOT_FOUND"),
    ],
    indirect=["caller"],
)
def test_customer_query_is_visible_only_to_those_entitled(caller, expected):
    result = caller(CUSTOMER)

    if expected in ("UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"):
        assert error_codes(result) == [expected]
        assert result["data"]["customer"] is None
    else:
        assert "errors" not in result
        assert (result["data"]["customer"] or {}).get("accountNumber") == expected


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("bad_token", "UNAUTHENTICATED"),
        ("expired_token", "UNAUTHENTICATED"),
        ("revoked_token", "UNAUTHENTICATED"),
        ("token_other_scope", "FORBIDDEN"),
        ("token_read_only", "FORBIDDEN"),
        ("customer_a", "FORBIDDEN"),
        ("token_billing", "created"),
        ("staff", "created"),
    ],
    indirect=["caller"],
)
def test_customer_create_needs_billing_write(caller, expected):
    result = caller(CREATE, NEW)

    if expected == "created":
        assert result["data"]["customerCreate"] == {"accountNumber": "NEW-1", "name": "New Customer"}
        assert Customer.objects.filter(account_number="NEW-1").count() == 1
    else:
        assert error_codes(result) == [expected]
        assert not Customer.objects.filter(account_number="NEW-1").exists()


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("bad_token", "UNAUTHENTICATED"),
        ("token_billing", "FORBIDDEN"),
        ("staff", None),
        ("customer_a", "ACC-A"),
        ("customer_b", "ACC-B"),
    ],
    indirect=["caller"],
)
def test_me_is_the_signed_in_customer(caller, expected):
    result = caller(ME)

    if expected in ("UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"):
        assert error_codes(result) == [expected]
    else:
        assert "errors" not in result
        assert (result["data"]["me"] or {}).get("accountNumber") == expected


def test_customer_create_is_idempotent_and_refuses_conflicts(gql_as, make_token):
    gql = gql_as(make_token("billing:write"))

    first = gql(CREATE, NEW)
    again = gql(CREATE, NEW)
    conflict = gql(CREATE, {"input": {**NEW["input"], "name": "Someone Else"}})

    assert first["data"]["customerCreate"] == again["data"]["customerCreate"]
    assert Customer.objects.filter(account_number="NEW-1").count() == 1
    assert conflict["data"]["customerCreate"]["messages"] == [
        {
            "kind": "VALIDATION",
            "code": "account_number_taken",
            "field": "accountNumber",
            "message": "Account NEW-1 exists with other details.",
        }
    ]
    assert Customer.objects.get(account_number="NEW-1").name == "New Customer"


def test_customer_create_names_the_bad_field_and_writes_nothing(gql_as, make_token):
    result = gql_as(make_token("billing:write"))(
        CREATE, {"input": {"accountNumber": "lower case", "name": "x"}}
    )

    [message] = result["data"]["customerCreate"]["messages"]
    assert (message["code"], message["field"]) == ("customer_invalid", "accountNumber")
    assert "capital letters" in message["message"]
    assert Customer.objects.count() == 0


def test_expired_token_is_refused_even_with_the_right_scope(gql_as, make_token, customer_a):
    token = make_token("billing:read")
    token.expires = timezone.now() - timedelta(seconds=1)
    token.save()

    assert error_codes(gql_as(token)(CUSTOMER)) == ["UNAUTHENTICATED"]
