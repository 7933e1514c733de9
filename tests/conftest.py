"""Shared fixtures. Tests marked `postgres` / `redis` need DATABASE_URL / REDIS_URL; with
REQUIRE_SERVICES=1 (CI) a missing service fails the run instead of skipping those tests."""

import json
import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from core.services import api_client_create
from tests.factories import CustomerFactory, StaffFactory

ENV_OF = {"postgres": "DATABASE_URL", "redis": "REDIS_URL"}


def pytest_collection_modifyitems(config, items):
    have = {"postgres": settings.IS_POSTGRES, "redis": bool(settings.REDIS_URL)}
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    if required and not all(have.values()):
        missing = [name for name, ok in have.items() if not ok]
        raise pytest.UsageError(f"REQUIRE_SERVICES=1 but not configured: {', '.join(missing)}")
    for item in items:
        for marker, ok in have.items():
            if marker in item.keywords and not ok:
                item.add_marker(pytest.mark.skip(reason=f"needs {marker} (set {ENV_OF[marker]})"))


class GraphQLClient:
    """POSTs GraphQL operations the way integrations do; returns the decoded JSON body."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None):
        self.client = client
        self.headers = headers or {}

    def __call__(self, query: str, variables: dict | None = None, **extra) -> dict:
        response = self.client.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            headers={**self.headers, **extra.pop("headers", {})},
            **extra,
        )
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def make_api_client(db):
    def make(*scopes: str, name: str | None = None):
        make.count += 1
        client, secret = api_client_create(name=name or f"client-{make.count}", scopes=list(scopes))
        return client, secret

    make.count = 0
    return make


@pytest.fixture
def make_token(make_api_client):
    """An access token for a new client granted `scopes` (as the token endpoint would issue it)."""

    def make(*scopes: str, expires_in: int = 3600) -> AccessToken:
        client, _ = make_api_client(*scopes) if scopes else make_api_client("grid:read")
        return AccessToken.objects.create(
            application=client.application,
            token=f"tok-{client.pk}-{timezone.now().timestamp()}",
            scope=" ".join(scopes),
            expires=timezone.now() + timedelta(seconds=expires_in),
        )

    return make


@pytest.fixture
def gql_as(client, make_token):
    """gql_as("anonymous" | "bad_token" | <AccessToken> | <User>) -> GraphQLClient."""

    def as_(who) -> GraphQLClient:
        if who == "anonymous":
            return GraphQLClient(Client())
        if who == "bad_token":
            return GraphQLClient(Client(), {"Authorization": "Bearer not-a-token"})
        if isinstance(who, AccessToken):
            return GraphQLClient(Client(), {"Authorization": f"Bearer {who.token}"})
        session = Client()
        session.force_login(who)
        return GraphQLClient(session)

    return as_


@pytest.fixture
def matrix_caller(gql_as, make_token, staff, customer_a, customer_b):
    """The GraphQL client of one role of a permission matrix.

    `tokens` maps the test's token roles to the scopes of a client-credentials token; the other roles are
    "anonymous", "bad_token", "staff", "customer" (= "customer_a") and "customer_b".
    """
    people = {
        "staff": staff,
        "customer": customer_a.user,
        "customer_a": customer_a.user,
        "customer_b": customer_b.user,
    }

    def build(name: str, tokens: dict[str, tuple[str, ...]]) -> GraphQLClient:
        if name in tokens:
            return gql_as(make_token(*tokens[name]))
        return gql_as(people.get(name, name))

    return build


# Roles and expected errors of a mutation that needs the app's write scope ("read", "write" and "other"
# being tokens with the app's read scope, its write scope, and another app's scopes).
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
def staff(db):
    return StaffFactory(username="staff-user", is_superuser=True)


@pytest.fixture
def customer_a(db):
    return CustomerFactory(account_number="ACC-A", name="Alice Able", user__username="alice")


@pytest.fixture
def customer_b(db):
    return CustomerFactory(account_number="ACC-B", name="Bob Baker", user__username="bob")


@pytest.fixture(autouse=True)
def _fresh_partition_cache():
    """Partitions created inside a test's transaction vanish with its rollback; forget them."""
    from metering.partitions import forget_known_partitions

    forget_known_partitions()
    yield
    forget_known_partitions()


def error_codes(result: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]
