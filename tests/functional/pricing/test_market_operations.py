"""Market GraphQL operations: permission matrices, import results, prices, analytics, stress and clearing."""

import datetime as dt
from decimal import Decimal

import pytest

from pricing.models import MarketPrice
from pricing.services.markets import market_ensure, market_prices_import
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

IMPORT = """mutation($input: MarketPricesImportInput!) { marketPricesImport(input: $input) {
  ... on IngestResult { accepted duplicates revised rejected { index code field message } }
  ... on OperationInfo { messages { code field message } } } }"""
PRICES = """query($market: String!, $from: DateTime!, $to: DateTime!) {
  marketPrices(market: $market, periodFrom: $from, periodTo: $to) {
    intervalStart intervalEnd pricePerMwh currency } }"""
ANALYTICS = """query($market: String!, $from: DateTime!, $to: DateTime!) {
  marketAnalytics(market: $market, periodFrom: $from, periodTo: $to, confidence: 0.9) {
    market currency hours skippedHours average peakAverage offPeakAverage minimum maximum volatility
    valueAtRisk expectedShortfall var95 var99 es95 es99 } }"""
STRESS = """query($market: String!, $from: DateTime!, $to: DateTime!) {
  marketStress(market: $market, periodFrom: $from, periodTo: $to, scenario: DEMAND_SPIKE, params: {k: 2}) {
    scenario params skippedHours average { baseline stressed change }
    maximum { baseline stressed change } } }"""
CLEAR = """query($offers: [OrderInput!]!, $bids: [OrderInput!]!) { marketClear(offers: $offers, bids: $bids) {
  price volume crossed acceptedOffers { id volume } acceptedBids { id volume } } }"""

ROWS = [
    {
        "intervalStart": "2024-01-15T00:00:00Z",
        "intervalEnd": "2024-01-15T01:00:00Z",
        "pricePerMwh": "-500.00",
    },
    {
        "intervalStart": "2024-01-15T02:00:00+01:00",
        "intervalEnd": "2024-01-15T02:00:00Z",
        "pricePerMwh": "61.5",
    },
    {"intervalStart": "2024-01-15T02:00:00Z", "intervalEnd": "2024-01-15T03:30:00Z", "pricePerMwh": "1"},
]


@pytest.fixture
def de():
    return market_ensure(code="DE-LU")


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "read": ("pricing:read",),
            "write": ("pricing:write",),
            "other": ("metering:read", "metering:write"),
        },
    )


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
def test_market_prices_import_permissions(de, caller, denied):
    result = caller(IMPORT, {"input": {"market": "DE-LU", "currency": "EUR", "prices": ROWS}})

    if denied:
        assert error_codes(result) == [denied]
        assert not MarketPrice.objects.exists()
    else:
        assert result["data"]["marketPricesImport"] == {
            "accepted": 2,
            "duplicates": 0,
            "revised": 0,
            "rejected": [
                {
                    "index": 2,
                    "code": "wrong_interval_length",
                    "field": "intervalEnd",
                    "message": "Intervals of DE-LU are 60 minutes long.",
                }
            ],
        }
        assert MarketPrice.objects.get(interval_start="2024-01-15T00:00:00Z").price_per_mwh == Decimal("-500")


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
def test_market_prices_permissions(de, caller, denied):
    market_prices_import(
        market_code="DE-LU",
        currency="EUR",
        prices=[
            (
                dt.datetime(2024, 1, 15, h, tzinfo=dt.UTC),
                dt.datetime(2024, 1, 15, h + 1, tzinfo=dt.UTC),
                Decimal(h),
            )
            for h in range(3)
        ],
        now=dt.datetime(2024, 1, 20, tzinfo=dt.UTC),
    )

    result = caller(
        PRICES, {"market": "DE-LU", "from": "2024-01-15T01:00:00+01:00", "to": "2024-01-15T02:00:00Z"}
    )

    if denied:
        assert error_codes(result) == [denied]
    else:
        # Half-open: the interval starting at periodTo is not included.
        assert result["data"]["marketPrices"] == [
            {
                "intervalStart": "2024-01-15T00:00:00+00:00",
                "intervalEnd": "2024-01-15T01:00:00+00:00",
                "pricePerMwh": "0.0000",
                "currency": "EUR",
            },
            {
                "intervalStart": "2024-01-15T01:00:00+00:00",
                "intervalEnd": "2024-01-15T02:00:00+00:00",
                "pricePerMwh": "1.0000",
                "currency": "EUR",
            },
        ]


def test_a_wrong_currency_refuses_the_whole_import(de, gql_as, make_token):
    result = gql_as(make_token("pricing:write"))(
        IMPORT, {"input": {"market": "DE-LU", "currency": "USD", "prices": ROWS}}
    )

    assert result["data"]["marketPricesImport"] == {
        "messages": [
            {
                "code": "currency_mismatch",
                "field": "currency",
                "message": "Prices of DE-LU are in EUR, not USD.",
            }
        ]
    }
    assert not MarketPrice.objects.exists()


def test_market_prices_refuse_a_period_that_is_too_long(de, gql_as, make_token):
    result = gql_as(make_token("pricing:read"))(
        PRICES, {"market": "DE-LU", "from": "2024-01-01T00:00:00Z", "to": "2024-06-01T00:00:00Z"}
    )

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "at most 93 days" in result["errors"][0]["message"]


def test_market_prices_query_uses_one_query_for_the_prices(de, gql_as, make_token, django_assert_num_queries):
    start = dt.datetime(2024, 1, 15, tzinfo=dt.UTC)
    market_prices_import(
        market_code="DE-LU",
        currency="EUR",
        prices=[
            (start + dt.timedelta(hours=h), start + dt.timedelta(hours=h + 1), Decimal(h)) for h in range(48)
        ],
        now=start,
    )
    gql = gql_as(make_token("pricing:read"))
    variables = {"market": "DE-LU", "from": "2024-01-15T00:00:00Z", "to": "2024-01-17T00:00:00Z"}
    gql(PRICES, variables)  # warm up

    with django_assert_num_queries(3):  # token, market, prices with their market
        result = gql(PRICES, variables)

    assert len(result["data"]["marketPrices"]) == 48


def test_market_analytics_and_stress_for_traders(de, gql_as, make_token):
    start = dt.datetime(2024, 1, 15, tzinfo=dt.UTC)  # a Monday
    market_prices_import(
        market_code="DE-LU",
        currency="EUR",
        prices=[
            (start + dt.timedelta(hours=h), start + dt.timedelta(hours=h + 1), Decimal(h % 24))
            for h in range(48)
        ],
        now=start,
    )
    gql = gql_as(make_token("pricing:read"))
    variables = {"market": "DE-LU", "from": "2024-01-15T00:00:00Z", "to": "2024-01-17T00:00:00Z"}

    analytics = gql(ANALYTICS, variables)["data"]["marketAnalytics"]
    stress = gql(STRESS, variables)["data"]["marketStress"]

    assert analytics["currency"] == "EUR"
    assert (analytics["hours"], analytics["skippedHours"]) == (48, 0)
    assert (analytics["average"], analytics["minimum"], analytics["maximum"]) == ("11.50", "0.00", "23.00")
    assert analytics["var95"] == "1.00"
    assert analytics["volatility"] > 0
    assert stress["scenario"] == "DEMAND_SPIKE"
    assert stress["params"] == {"k": 2}
    assert stress["maximum"]["baseline"] == "23.00"
    assert Decimal(stress["maximum"]["stressed"]) > Decimal("23")


@pytest.mark.parametrize(
    ("caller", "denied"),
    [("anonymous", "UNAUTHENTICATED"), ("customer", "FORBIDDEN"), ("read", None), ("staff", None)],
    indirect=["caller"],
)
def test_market_clear_seed_example(caller, denied):
    offers = [{"price": p, "volume": "100"} for p in ("30", "40", "50")]
    bids = [{"price": p, "volume": "100", "id": f"bid-{p}"} for p in ("60", "50", "40")]

    result = caller(CLEAR, {"offers": offers, "bids": bids})

    if denied:
        assert error_codes(result) == [denied]
    else:
        assert result["data"]["marketClear"] == {
            "price": "50",
            "volume": "200",
            "crossed": True,
            "acceptedOffers": [{"id": "offers[0]", "volume": "100"}, {"id": "offers[1]", "volume": "100"}],
            "acceptedBids": [{"id": "bid-60", "volume": "100"}, {"id": "bid-50", "volume": "100"}],
        }


def test_market_clear_names_the_bad_order(gql_as, make_token):
    result = gql_as(make_token("pricing:read"))(
        CLEAR, {"offers": [{"price": "30", "volume": "0"}], "bids": [{"price": "60", "volume": "1"}]}
    )

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "offers"
    assert "offers[0].volume must be positive" in result["errors"][0]["message"]
