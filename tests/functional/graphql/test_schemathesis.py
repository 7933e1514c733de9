"""Property-based run of schemathesis against the whole GraphQL schema: no client input gives a server error.

Schemathesis generates, for every root Query and Mutation field, documents with valid arguments (positive)
and invalid ones (negative: wrong types, missing arguments, out-of-range values); each is POSTed as an API
client holding every scope, and as a superuser's session. Bounded: a few examples per operation and mode,
so the run stays well under a minute; `SCHEMATHESIS_EXAMPLES` raises it for a longer local run.
"""

import json
import logging
import os
import string
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import schemathesis
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.graphql import nodes

from config.schema import schema as api_schema

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))

# Scalars: valid values mostly, with the edge cases a careless client sends.
_decimal_text = st.one_of(
    st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4, allow_nan=False).map(str),
    st.sampled_from(["NaN", "-0", "1e-400", "1_000", "١٢", "Infinity", "9" * 40, "0.1", ""]),
)
# Hypothesis takes naive bounds and attaches the zone itself.
_aware = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.isoformat())
_moment = st.one_of(
    _aware, st.sampled_from(["2024-01-01T00:00:00", "not a time", "9999-12-31T23:59:59+00:00"])
)
_day = st.one_of(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(str),
    st.sampled_from(["2024-02-30", "0001-01-01", "9999-12-31"]),
)
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(string.printable, max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(string.ascii_letters, max_size=6), inner, max_size=3),
    ),
    max_leaves=6,
)

schemathesis.graphql.scalar("Decimal", _decimal_text.map(nodes.String))
schemathesis.graphql.scalar("DateTime", _moment.map(nodes.String))
schemathesis.graphql.scalar("Date", _day.map(nodes.String))
schemathesis.graphql.scalar("JSON", _json.map(lambda value: nodes.String(json.dumps(value))))

FUZZ_SCHEMA = schemathesis.graphql.from_file(api_schema.as_str())
OPERATIONS = sorted(
    (result.ok() for result in FUZZ_SCHEMA.get_all_operations()), key=lambda operation: operation.label
)


@pytest.fixture
def callers(make_token, staff):
    token = make_token(*settings.API_SCOPES, expires_in=3600)
    api = Client(headers={"Authorization": f"Bearer {token.token}"})
    session = Client()
    session.force_login(staff)
    return {"api client": api, "staff": session}


def test_the_fuzzed_schema_covers_every_root_operation():
    labels = {operation.label for operation in OPERATIONS}
    roots = api_schema._schema.query_type, api_schema._schema.mutation_type

    assert labels == {f"{root.name}.{field}" for root in roots for field in root.fields}
    assert {"Query.invoices", "Mutation.readingsIngest", "Mutation.billRunStart"} <= labels


def test_no_generated_document_gets_a_server_error(callers, caplog, record_property):
    """RELIABILITY check 47 (schemathesis GraphQL fuzz): positive and negative documents for every root
    field, as an API client with every scope and as staff: no 5xx, no INTERNAL_SERVER_ERROR, nothing
    logged as an unexpected error."""
    tried: dict[str, int] = {}
    failures: list[str] = []

    def fuzz(operation, mode):
        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            body = case.body if isinstance(case.body, dict) else {"query": case.body}
            for who, client in callers.items():
                caplog.clear()
                response = client.post("/graphql/", data=json.dumps(body), content_type="application/json")
                tried[mode.value] = tried.get(mode.value, 0) + 1
                text = response.content.decode(errors="replace")
                logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
                if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in text or logged:
                    failures.append(
                        f"{operation.label} [{mode.value}, {who}] {response.status_code}: "
                        f"{body['query'][:300]!r} -> {text[:300]} {logged[:1]}"
                    )

        run()

    for operation in OPERATIONS:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode)

    record_property("schemathesis_requests", tried)
    print(f"schemathesis: {len(OPERATIONS)} operations, requests per mode: {tried}")
    assert not failures, "\n".join(failures[:20])
