"""metering GraphQL: permission matrix of every operation, ingest results, grouped readings."""

from datetime import UTC, datetime

import pytest

from metering.models import Meter, MeterPoint, Reading
from tests.conftest import WRITE_MATRIX, error_codes
from tests.factories.metering import half_hours, ingest, make_meter

pytestmark = pytest.mark.django_db

CREATE_POINT = """mutation($input: MeterPointCreateInput!) { meterPointCreate(input: $input) {
  ... on MeterPoint { identifier timezone } ... on OperationInfo { messages { code field message } } } }"""
INSTALL = """mutation($input: MeterInstallInput!) { meterInstall(input: $input) {
  ... on Meter { serial direction } ... on OperationInfo { messages { code field message } } } }"""
INGEST = """mutation($input: ReadingsIngestInput!) { readingsIngest(input: $input) {
  ... on IngestResult { accepted duplicates revised rejected { index code field message } }
  ... on OperationInfo { messages { code field message } } } }"""
POINT = """query($id: String!, $from: DateTime!, $to: DateTime!, $groupBy: GroupBy) {
  meterPoint(identifier: $id) { identifier meters { serial direction }
    readings(periodFrom: $from, periodTo: $to, groupBy: $groupBy) {
      intervalStart intervalEnd kwh quality } } }"""

READINGS = [
    {"intervalStart": "2024-01-15T00:00:00Z", "intervalEnd": "2024-01-15T00:30:00Z", "kwh": "0.1234"},
    {"intervalStart": "2024-01-15T00:30:00+00:00", "intervalEnd": "2024-01-15T01:00:00Z", "kwh": "0.5000"},
    {"intervalStart": "2024-01-15T01:00:00Z", "intervalEnd": "2024-01-15T01:30:00Z", "kwh": "-1"},
]


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "read": ("metering:read",),
            "write": ("metering:write",),
            "other": ("billing:read", "billing:write"),
        },
    )


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_meter_point_create_permissions(caller, denied):
    result = caller(CREATE_POINT, {"input": {"identifier": "MP-9", "timezone": "Europe/Berlin"}})

    if denied:
        assert error_codes(result) == [denied]
        assert not MeterPoint.objects.exists()
    else:
        assert result["data"]["meterPointCreate"] == {"identifier": "MP-9", "timezone": "Europe/Berlin"}


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_meter_install_permissions(caller, denied):
    make_meter("OLD-1")

    result = caller(
        INSTALL, {"input": {"meterPointIdentifier": "MP-OLD-1", "serial": "EXP-1", "direction": "EXPORT"}}
    )

    if denied:
        assert error_codes(result) == [denied]
        assert not Meter.objects.filter(serial="EXP-1").exists()
    else:
        assert result["data"]["meterInstall"] == {"serial": "EXP-1", "direction": "EXPORT"}


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_readings_ingest_permissions(caller, denied):
    make_meter("M-1")

    result = caller(INGEST, {"input": {"meterSerial": "M-1", "readings": READINGS}})

    if denied:
        assert error_codes(result) == [denied]
        assert not Reading.objects.exists()
    else:
        assert result["data"]["readingsIngest"]["accepted"] == 2


@pytest.mark.parametrize(
    ("caller", "denied"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("other", "FORBIDDEN"),
        ("customer", "FORBIDDEN"),
        ("read", None),
        ("staff", None),
    ],
    indirect=["caller"],
)
def test_meter_point_query_permissions(caller, denied):
    make_meter("M-1")

    result = caller(POINT, {"id": "MP-M-1", "from": "2024-01-15T00:00:00Z", "to": "2024-01-16T00:00:00Z"})

    if denied:
        assert error_codes(result) == [denied]
    else:
        assert result["data"]["meterPoint"]["meters"] == [{"serial": "M-1", "direction": "IMPORT"}]


def test_readings_ingest_reports_each_rejected_reading_and_replays_an_idempotency_key(gql_as, make_token):
    make_meter("M-1")
    gql = gql_as(make_token("metering:write"))
    variables = {"input": {"meterSerial": "M-1", "idempotencyKey": "batch-1", "readings": READINGS}}

    first = gql(INGEST, variables)["data"]["readingsIngest"]
    replay = gql(INGEST, variables)["data"]["readingsIngest"]
    reused = gql(INGEST, {"input": {**variables["input"], "readings": READINGS[:1]}})["data"][
        "readingsIngest"
    ]

    assert first == {
        "accepted": 2,
        "duplicates": 0,
        "revised": 0,
        "rejected": [
            {
                "index": 2,
                "code": "negative_energy",
                "field": "kwh",
                "message": "kWh must not be negative (export has its own meter).",
            }
        ],
    }
    assert replay == first
    assert reused == {
        "messages": [
            {
                "code": "idempotency_key_reused",
                "field": "idempotencyKey",
                "message": "This idempotency key was used for different readings.",
            }
        ]
    }
    assert Reading.objects.count() == 2


def test_an_ingest_idempotency_key_belongs_to_its_client(gql_as, make_token):
    """RELIABILITY.md check 22 (issue 10 item 6): client B's key "batch-1" is not client A's replay; B's
    readings are ingested, and A's key with B's readings would have been refused."""
    make_meter("M-1")
    client_a = gql_as(make_token("metering:write"))
    client_b = gql_as(make_token("metering:write"))
    variables = {"input": {"meterSerial": "M-1", "idempotencyKey": "batch-1", "readings": READINGS[:1]}}

    first = client_a(INGEST, variables)["data"]["readingsIngest"]
    other = client_b(INGEST, {"input": {**variables["input"], "readings": READINGS[1:2]}})["data"][
        "readingsIngest"
    ]

    assert first["accepted"] == 1
    assert (other["accepted"], other["duplicates"]) == (1, 0)
    assert Reading.objects.count() == 2


def test_decimal_inputs_refuse_nan_and_floats(gql_as, make_token):
    make_meter("M-1")
    gql = gql_as(make_token("metering:write"))
    bad = [{**READINGS[0], "kwh": "NaN"}]

    result = gql(INGEST, {"input": {"meterSerial": "M-1", "readings": bad}})

    assert "NaN and infinite values are not accepted" in result["errors"][0]["message"]
    assert not Reading.objects.exists()


def test_meter_point_readings_are_grouped_by_local_day(gql_as, make_token):
    meter = make_meter("M-1", timezone="Europe/London")
    ingest(meter, half_hours(datetime(2024, 10, 26, 23, 0, tzinfo=UTC), 50 + 2, "0.0200"))  # BST midnight

    result = gql_as(make_token("metering:read"))(
        POINT,
        {"id": "MP-M-1", "from": "2024-10-27T00:00:00+01:00", "to": "2024-10-28T00:00:00Z", "groupBy": "DAY"},
    )

    assert result["data"]["meterPoint"]["readings"] == [
        {
            "intervalStart": "2024-10-26T23:00:00+00:00",
            "intervalEnd": "2024-10-28T00:00:00+00:00",
            "kwh": "1.0000",
            "quality": "ACTUAL",
        }
    ]


def test_readings_refuse_a_period_that_is_too_long_for_half_hours(gql_as, make_token):
    make_meter("M-1")

    result = gql_as(make_token("metering:read"))(
        """query { meterPoint(identifier: "MP-M-1") {
             readings(periodFrom: "2024-01-01T00:00:00Z", periodTo: "2024-03-01T00:00:00Z", first: 10)
             { kwh } } }"""
    )

    assert result["data"]["meterPoint"]["readings"] == []  # no readings: nothing to page


def test_meter_point_create_names_the_bad_field(gql_as, make_token):
    result = gql_as(make_token("metering:write"))(
        CREATE_POINT, {"input": {"identifier": "MP-1", "timezone": "Mars/Olympus"}}
    )

    assert result["data"]["meterPointCreate"]["messages"] == [
        {
            "code": "meter_point_invalid",
            "field": "timezone",
            "message": "'Mars/Olympus' is not an IANA time zone.",
        }
    ]
