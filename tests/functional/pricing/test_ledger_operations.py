"""GraphQL of dynamic price publications and the ledger: permission matrices, breakdowns, domain errors."""

import pytest

from pricing.models import LedgerEntry, RatePublication, Tariff
from tests.conftest import error_codes
from tests.integration.pricing.test_publication import make_dynamic_tariff, make_prices, publish

pytestmark = pytest.mark.django_db

PUBLISHED_RATES = """query($code: String!, $day: Date!) { publishedRates(tariffCode: $code, day: $day) {
  intervalStart intervalEnd ratePerKwh revision breakdown { rule perKwh note } } }"""
VERIFY = "query { priceLedgerVerify { entriesChecked ok firstBrokenSequence reason } }"
PUBLISH = """mutation($input: DynamicPricesPublishInput!) { dynamicPricesPublish(input: $input) {
  ... on RatePublication { tariffCode day revision created ledgerSequence intervals { ratePerKwh } }
  ... on OperationInfo { messages { code field message } } } }"""


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {"read": ("pricing:read",), "write": ("pricing:write",), "other": ("billing:read", "metering:write")},
    )


@pytest.fixture
def dynamic_day():
    make_dynamic_tariff()
    make_prices()


@pytest.mark.parametrize(
    ("caller", "denied"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("bad_token", "UNAUTHENTICATED"),
        ("other", "FORBIDDEN"),
        ("write", "FORBIDDEN"),
        ("read", None),
        ("customer", "FORBIDDEN"),
        ("staff", None),
    ],
    indirect=["caller"],
)
def test_published_rates_permissions(caller, denied, dynamic_day):
    publish()

    result = caller(PUBLISHED_RATES, {"code": "DYN-1", "day": "2024-01-15"})

    if denied:
        assert error_codes(result) == [denied]
        assert result["data"] is None
    else:
        intervals = result["data"]["publishedRates"]
        assert len(intervals) == 48
        assert intervals[0] == {
            "intervalStart": "2024-01-14T23:00:00+00:00",
            "intervalEnd": "2024-01-14T23:30:00+00:00",
            "ratePerKwh": "0.170000",
            "revision": 1,
            "breakdown": [
                {"rule": "market", "perKwh": "0.170000", "note": "100.0000 /MWh × 1.2 + 0.05"},
                {"rule": "floor", "perKwh": "0.000000", "note": "above floor 0"},
            ],
        }


@pytest.mark.parametrize(
    ("caller", "denied"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("bad_token", "UNAUTHENTICATED"),
        ("other", "FORBIDDEN"),
        ("customer", "FORBIDDEN"),
        ("write", "FORBIDDEN"),
        ("read", None),
        ("staff", None),
    ],
    indirect=["caller"],
)
def test_price_ledger_verify_permissions(caller, denied, dynamic_day):
    publish()

    result = caller(VERIFY)

    if denied:
        assert error_codes(result) == [denied]
    else:
        assert result["data"]["priceLedgerVerify"] == {
            "entriesChecked": 1,
            "ok": True,
            "firstBrokenSequence": None,
            "reason": None,
        }


@pytest.mark.parametrize(
    ("caller", "denied"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("bad_token", "UNAUTHENTICATED"),
        ("other", "FORBIDDEN"),
        ("read", "FORBIDDEN"),
        ("customer", "FORBIDDEN"),
        ("write", None),
        ("staff", None),
    ],
    indirect=["caller"],
)
def test_dynamic_prices_publish_permissions(caller, denied, dynamic_day):
    result = caller(PUBLISH, {"input": {"tariffCode": "DYN-1", "day": "2024-01-15"}})

    if denied:
        assert error_codes(result) == [denied]
        assert not RatePublication.objects.exists()
        assert not LedgerEntry.objects.exists()
    else:
        published = result["data"]["dynamicPricesPublish"]
        assert {k: published[k] for k in ("tariffCode", "day", "revision", "created", "ledgerSequence")} == {
            "tariffCode": "DYN-1",
            "day": "2024-01-15",
            "revision": 1,
            "created": True,
            "ledgerSequence": 1,
        }
        assert len(published["intervals"]) == 48


def test_republishing_through_the_api_says_nothing_changed(gql_as, make_token, dynamic_day):
    gql = gql_as(make_token("pricing:write"))
    variables = {"input": {"tariffCode": "DYN-1", "day": "2024-01-15"}}

    gql(PUBLISH, variables)
    again = gql(PUBLISH, variables)["data"]["dynamicPricesPublish"]

    assert (again["created"], again["revision"], again["ledgerSequence"]) == (False, 1, 1)


def test_publishing_without_market_prices_returns_the_domain_error(gql_as, make_token):
    make_dynamic_tariff()

    result = gql_as(make_token("pricing:write"))(
        PUBLISH, {"input": {"tariffCode": "DYN-1", "day": "2024-01-15"}}
    )

    [message] = result["data"]["dynamicPricesPublish"]["messages"]
    assert message["code"] == "missing_market_price"
    assert "2024-01-14T23:00:00Z" in message["message"]
    assert not RatePublication.objects.exists()


def test_published_rates_of_an_unpublished_day_are_empty(gql_as, make_token):
    Tariff.objects.create(code="DYN-1", name="Dynamic", direction="IMPORT")
    reader = gql_as(make_token("pricing:read"))

    result = reader(PUBLISHED_RATES, {"code": "DYN-1", "day": "2024-01-15"})
    unknown = reader(PUBLISHED_RATES, {"code": "NOPE", "day": "2024-01-15"})

    assert result["data"]["publishedRates"] == []
    assert error_codes(unknown) == ["NOT_FOUND"]
