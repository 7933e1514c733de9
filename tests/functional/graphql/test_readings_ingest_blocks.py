"""readingsIngestBlocks: permission matrix, per-value rejects with block and value index, qualities,
idempotency, malformed blocks and the larger body cap for ingest tokens."""

import json
from decimal import Decimal

import pytest

from metering.models import IngestBatch, Quality, Reading
from tests.conftest import WRITE_MATRIX, error_codes
from tests.factories.metering import make_meter

pytestmark = pytest.mark.django_db

INGEST_BLOCKS = """mutation($input: ReadingsIngestBlocksInput!) { readingsIngestBlocks(input: $input) {
  ... on IngestResult { accepted duplicates revised rejectedCount
    rejected { index block value code field message } }
  ... on OperationInfo { messages { code field message } } } }"""

BLOCKS = [
    {
        "meterSerial": "M-1",
        "start": "2024-01-15T00:00:00Z",
        "resolution": "PT30M",
        "values": ["0.1234", "0.5"],
    },
    {
        "meterSerial": "M-2",
        "start": "2024-01-15T00:00:00Z",
        "resolution": 1800,
        "values": ["0.2", "-1", "0.12345", 0.25],
        "qualities": ["ACTUAL", "ACTUAL", "ACTUAL", "ESTIMATED"],
    },
]


@pytest.fixture
def meters():
    return make_meter("M-1"), make_meter("M-2")


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


@pytest.fixture
def writer(gql_as, make_token):
    return gql_as(make_token("metering:write"))


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_readings_ingest_blocks_permissions(meters, caller, denied):
    result = caller(INGEST_BLOCKS, {"input": {"blocks": BLOCKS}})

    if denied:
        assert error_codes(result) == [denied]
        assert not Reading.objects.exists()
    else:
        assert result["data"]["readingsIngestBlocks"]["accepted"] == 4
        assert Reading.objects.count() == 4


def test_each_rejected_value_names_its_block_and_value_and_the_rest_is_written(meters, writer):
    result = writer(INGEST_BLOCKS, {"input": {"blocks": BLOCKS}})["data"]["readingsIngestBlocks"]

    assert result == {
        "accepted": 4,
        "duplicates": 0,
        "revised": 0,
        "rejectedCount": 2,
        "rejected": [
            {
                "index": 3,
                "block": 1,
                "value": 1,
                "code": "negative_energy",
                "field": "values",
                "message": "kWh must not be negative (export has its own meter).",
            },
            {
                "index": 4,
                "block": 1,
                "value": 2,
                "code": "too_precise",
                "field": "values",
                "message": "kWh has more than 4 decimal places.",
            },
        ],
    }
    stored = {
        (r.meter.serial, r.interval_start.isoformat(), r.energy_kwh, r.quality)
        for r in Reading.objects.select_related("meter")
    }
    assert stored == {
        ("M-1", "2024-01-15T00:00:00+00:00", Decimal("0.1234"), Quality.ACTUAL),
        ("M-1", "2024-01-15T00:30:00+00:00", Decimal("0.5000"), Quality.ACTUAL),
        ("M-2", "2024-01-15T00:00:00+00:00", Decimal("0.2000"), Quality.ACTUAL),
        ("M-2", "2024-01-15T01:30:00+00:00", Decimal("0.2500"), Quality.ESTIMATED),
    }


def test_block_level_problems_are_rejected_per_value_with_the_blocks_field(meters, writer):
    blocks = [
        {"meterSerial": "GHOST", "start": "2024-01-15T00:00:00Z", "resolution": 1800, "values": ["1"]},
        {"meterSerial": "M-1", "start": "2024-01-15T00:10:00Z", "resolution": 1800, "values": ["1"]},
        {"meterSerial": "M-1", "start": "2024-01-15T00:00:00Z", "resolution": "PT1H", "values": ["1"]},
        {"meterSerial": "M-1", "start": "2024-01-15T00:00:00Z", "resolution": 1800, "values": ["1"],
         "qualities": ["GUESSED"]},
    ]  # fmt: skip

    result = writer(INGEST_BLOCKS, {"input": {"blocks": blocks}})["data"]["readingsIngestBlocks"]

    assert [(r["block"], r["value"], r["code"], r["field"]) for r in result["rejected"]] == [
        (0, 0, "unknown_meter", "meterSerial"),
        (1, 0, "misaligned_interval", "start"),
        (2, 0, "wrong_interval_length", "resolution"),
        (3, 0, "invalid_quality", "qualities"),
    ]
    assert result["accepted"] == 0
    assert not Reading.objects.exists()


def test_the_same_blocks_again_are_duplicates_and_a_changed_value_a_revision(meters, writer):
    writer(INGEST_BLOCKS, {"input": {"blocks": BLOCKS}})
    changed = [{**BLOCKS[0], "values": ["0.1234", "0.6"]}]

    again = writer(INGEST_BLOCKS, {"input": {"blocks": BLOCKS}})["data"]["readingsIngestBlocks"]
    revised = writer(INGEST_BLOCKS, {"input": {"blocks": changed}})["data"]["readingsIngestBlocks"]

    assert (again["accepted"], again["duplicates"]) == (0, 4)
    assert (revised["accepted"], revised["revised"], revised["duplicates"]) == (1, 1, 1)
    assert Reading.objects.get(
        meter__serial="M-1", interval_start="2024-01-15T00:30:00Z"
    ).energy_kwh == Decimal("0.6000")


def test_an_idempotency_key_replays_the_result_and_refuses_other_blocks(meters, writer):
    first = writer(INGEST_BLOCKS, {"input": {"blocks": BLOCKS, "idempotencyKey": "k-1"}})
    replay = writer(INGEST_BLOCKS, {"input": {"blocks": BLOCKS, "idempotencyKey": "k-1"}})
    other = writer(INGEST_BLOCKS, {"input": {"blocks": BLOCKS[:1], "idempotencyKey": "k-1"}})

    assert replay["data"]["readingsIngestBlocks"] == first["data"]["readingsIngestBlocks"]
    assert replay["data"]["readingsIngestBlocks"]["accepted"] == 4
    assert other["data"]["readingsIngestBlocks"]["messages"][0]["code"] == "idempotency_key_reused"
    assert IngestBatch.objects.count() == 1
    assert Reading.objects.count() == 4


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({"values": "0.1,0.2"}, "blocks.0.values"),
        ({"qualities": ["ACTUAL"]}, "blocks.0.qualities"),
    ],
)
def test_a_malformed_block_refuses_the_request_naming_its_field(meters, writer, block, field):
    blocks = [{**BLOCKS[0], **block}]

    result = writer(INGEST_BLOCKS, {"input": {"blocks": blocks}})

    [message] = result["data"]["readingsIngestBlocks"]["messages"]
    assert (message["code"], message["field"]) == ("reading_block_invalid", field)
    assert not Reading.objects.exists()


def test_a_bad_resolution_refuses_the_request_naming_the_block(meters, writer):
    result = writer(INGEST_BLOCKS, {"input": {"blocks": [{**BLOCKS[0], "resolution": "thirty minutes"}]}})

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "blocks.0.resolution"
    assert not Reading.objects.exists()


def test_an_ingest_token_may_send_a_body_larger_than_the_general_cap(meters, gql_as, make_token, settings):
    settings.GRAPHQL_MAX_BODY_BYTES = 4096
    settings.GRAPHQL_MAX_INGEST_BODY_BYTES = 200_000
    values = ["0.1000"] * 1000
    body = {"input": {"blocks": [{**BLOCKS[0], "start": "2023-01-01T00:00:00Z", "values": values}]}}
    assert len(json.dumps(body)) > 4096

    ingest = gql_as(make_token("metering:write"))(INGEST_BLOCKS, body)
    reader = gql_as(make_token("metering:read")).client.post(
        "/graphql/",
        data=json.dumps({"query": INGEST_BLOCKS, "variables": body}),
        content_type="application/json",
        headers={"Authorization": gql_as(make_token("metering:read")).headers["Authorization"]},
    )

    assert ingest["data"]["readingsIngestBlocks"]["accepted"] == 1000
    assert reader.status_code == 413
    assert reader.json()["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE", "maxBytes": 4096}
