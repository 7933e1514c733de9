"""marketCreate / marketUpdate: permission matrices, validation naming the field, audit, and a market created
over the API that takes prices through marketPricesImport (end to end)."""

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from pricing.models import Market, MarketPrice
from tests.conftest import WRITE_MATRIX, error_codes

pytestmark = pytest.mark.django_db

CREATE = """mutation($input: MarketCreateInput!) { marketCreate(input: $input) {
  ... on Market { code name currency timezone intervalMinutes dayAheadResultsAt feedAdapter feedConfig }
  ... on OperationInfo { messages { kind code field message } } } }"""
UPDATE = """mutation($input: MarketUpdateInput!) { marketUpdate(input: $input) {
  ... on Market { code name currency timezone intervalMinutes dayAheadResultsAt feedAdapter feedConfig }
  ... on OperationInfo { messages { kind code field message } } } }"""
IMPORT = """mutation($input: MarketPricesImportInput!) { marketPricesImport(input: $input) {
  ... on IngestResult { accepted duplicates revised rejected { index code field message } }
  ... on OperationInfo { messages { code field message } } } }"""
PRICES = """query($market: String!, $from: DateTime!, $to: DateTime!) {
  marketPrices(market: $market, periodFrom: $from, periodTo: $to) {
    intervalStart intervalEnd pricePerMwh currency } }"""

NORDIC = {
    "code": "NO-1",
    "name": "Norway Oslo",
    "currency": "NOK",
    "timezone": "Europe/Oslo",
    "intervalMinutes": 15,
    "dayAheadResultsAt": "12:45:00",
}


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "read": ("pricing:read",),
            "write": ("pricing:write",),
            "other": ("metering:write", "billing:write"),
        },
    )


@pytest.fixture
def writer(gql_as, make_token):
    return gql_as(make_token("pricing:write", "pricing:read"))


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_market_create_permissions(caller, denied):
    result = caller(CREATE, {"input": NORDIC})

    if denied:
        assert error_codes(result) == [denied]
        assert not Market.objects.exists()
    else:
        assert result["data"]["marketCreate"] == {
            "code": "NO-1",
            "name": "Norway Oslo",
            "currency": "NOK",
            "timezone": "Europe/Oslo",
            "intervalMinutes": 15,
            "dayAheadResultsAt": "12:45:00",
            "feedAdapter": "file",
            "feedConfig": {},
        }
        assert Market.objects.get(code="NO-1").interval_minutes == 15


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_market_update_permissions(caller, denied):
    Market.objects.create(
        code="NO-1", currency="NOK", timezone="Europe/Oslo", day_ahead_results_at=dt.time(12, 45)
    )

    result = caller(UPDATE, {"input": {"code": "NO-1", "name": "Oslo", "dayAheadResultsAt": "13:00:00"}})

    market = Market.objects.get(code="NO-1")
    if denied:
        assert error_codes(result) == [denied]
        assert (market.name, market.day_ahead_results_at) == ("", dt.time(12, 45))
    else:
        assert result["data"]["marketUpdate"]["name"] == "Oslo"
        assert result["data"]["marketUpdate"]["dayAheadResultsAt"] == "13:00:00"
        assert (market.name, market.day_ahead_results_at) == ("Oslo", dt.time(13, 0))


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"currency": "nok"}, "currency", "market_invalid"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "market_invalid"),
        ({"intervalMinutes": 7}, "intervalMinutes", "market_invalid"),
        ({"feedAdapter": "carrier-pigeon"}, "feedAdapter", "market_invalid"),
        ({"feedConfig": [1, 2]}, "feedConfig", "market_invalid"),
        ({"code": "  "}, "code", "market_invalid"),
        ({"name": "x" * 101}, "name", "market_invalid"),
    ],
)
def test_market_create_refuses_a_bad_value_naming_its_field(writer, change, field, code):
    result = writer(CREATE, {"input": {**NORDIC, **change}})

    [message] = result["data"]["marketCreate"]["messages"]
    assert (message["kind"], message["code"], message["field"]) == ("VALIDATION", code, field)
    assert not Market.objects.exists()


def test_market_create_again_returns_the_market_and_other_attributes_are_refused(writer):
    first = writer(CREATE, {"input": NORDIC})["data"]["marketCreate"]

    again = writer(CREATE, {"input": NORDIC})["data"]["marketCreate"]
    other = writer(CREATE, {"input": {**NORDIC, "currency": "EUR"}})["data"]["marketCreate"]

    assert again == first
    assert other["messages"][0]["code"] == "market_exists"
    assert other["messages"][0]["field"] == "code"
    assert Market.objects.get().currency == "NOK"


def test_market_update_of_an_unknown_market_is_not_found(writer):
    result = writer(UPDATE, {"input": {"code": "GHOST", "name": "x"}})

    assert result["data"]["marketUpdate"]["messages"] == [
        {"kind": "VALIDATION", "code": "NOT_FOUND", "field": "code", "message": "No market 'GHOST'."}
    ]


def test_a_market_with_prices_keeps_its_currency_zone_and_interval(writer):
    writer(CREATE, {"input": {**NORDIC, "intervalMinutes": 60}})
    writer(
        IMPORT,
        {
            "input": {
                "market": "NO-1",
                "currency": "NOK",
                "prices": [
                    {
                        "intervalStart": "2024-01-15T00:00:00Z",
                        "intervalEnd": "2024-01-15T01:00:00Z",
                        "pricePerMwh": "800",
                    }
                ],
            }
        },
    )

    result = writer(UPDATE, {"input": {"code": "NO-1", "currency": "EUR", "name": "Oslo"}})

    [message] = result["data"]["marketUpdate"]["messages"]
    assert (message["code"], message["field"]) == ("market_has_prices", "currency")
    market = Market.objects.get(code="NO-1")
    assert (market.currency, market.name) == ("NOK", "Norway Oslo")


def test_market_update_changes_the_defining_attributes_while_there_are_no_prices(writer):
    writer(CREATE, {"input": NORDIC})

    result = writer(
        UPDATE,
        {
            "input": {
                "code": "NO-1",
                "intervalMinutes": 60,
                "feedAdapter": "file",
                "feedConfig": {"column": "X"},
            }
        },
    )

    assert result["data"]["marketUpdate"]["intervalMinutes"] == 60
    assert result["data"]["marketUpdate"]["feedConfig"] == {"column": "X"}


def test_market_create_and_update_are_audited(writer):
    writer(CREATE, {"input": NORDIC})
    writer(UPDATE, {"input": {"code": "NO-1", "name": "Oslo"}})

    market = Market.objects.get(code="NO-1")
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Market), object_pk=str(market.pk)
    ).order_by("pk")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert entries[1].changes_dict["name"] == ["Norway Oslo", "Oslo"]


def test_prices_import_into_a_market_created_over_the_api(writer):
    created = writer(CREATE, {"input": {**NORDIC, "intervalMinutes": 60}})
    assert created["data"]["marketCreate"]["code"] == "NO-1"
    rows = [
        {
            "intervalStart": f"2024-01-15T{h:02d}:00:00Z",
            "intervalEnd": f"2024-01-15T{h + 1:02d}:00:00Z",
            "pricePerMwh": f"{700 + h}.25",
        }
        for h in range(3)
    ]

    imported = writer(IMPORT, {"input": {"market": "NO-1", "currency": "NOK", "prices": rows}})
    prices = writer(PRICES, {"market": "NO-1", "from": "2024-01-15T00:00:00Z", "to": "2024-01-16T00:00:00Z"})

    assert imported["data"]["marketPricesImport"] == {
        "accepted": 3,
        "duplicates": 0,
        "revised": 0,
        "rejected": [],
    }
    assert [(p["pricePerMwh"], p["currency"]) for p in prices["data"]["marketPrices"]] == [
        ("700.2500", "NOK"),
        ("701.2500", "NOK"),
        ("702.2500", "NOK"),
    ]
    assert MarketPrice.objects.filter(market__code="NO-1").count() == 3
    assert MarketPrice.objects.get(interval_start="2024-01-15T02:00:00Z").price_per_mwh == Decimal("702.25")
