"""unitRates over GraphQL: every interval of the period, DST days, market prices, errors naming intervals."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from pricing.models import Market, MarketPrice
from tests.integration.pricing.test_tariffs import JAN, doc, publish

pytestmark = pytest.mark.django_db

UNIT_RATES = """query($code: String!, $from: DateTime!, $to: DateTime!) {
  unitRates(tariffCode: $code, periodFrom: $from, periodTo: $to) { validFrom validTo valuePerKwh band } }"""


@pytest.fixture
def reader(gql_as, make_token):
    return gql_as(make_token("pricing:read"))


def test_a_tou_tariff_has_fifty_half_hours_on_the_autumn_clock_change_in_chicago(reader):
    hours = ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5
    tou = {
        "kind": "tou",
        "rates_per_kwh": {"off_peak": "0.0800", "peak": "0.2000"},
        "weekday": hours,
        "weekend": hours,
    }
    publish("TOU-US", JAN, None, doc(tou, currency="USD", timezone="America/Chicago"))

    rates = reader(
        UNIT_RATES, {"code": "TOU-US", "from": "2024-11-03T00:00:00-05:00", "to": "2024-11-04T00:00:00-06:00"}
    )["data"]["unitRates"]

    assert len(rates) == 50
    assert next(r["validFrom"] for r in rates if r["band"] == "peak") == "2024-11-03T22:00:00+00:00"
    assert rates[-1]["validTo"] == "2024-11-04T06:00:00+00:00"


def test_an_indexed_tariff_passes_negative_market_prices_through_unless_floored(reader):
    market = Market.objects.create(
        code="DE-LU",
        currency="EUR",
        timezone="Europe/Berlin",
        interval_minutes=60,
        day_ahead_results_at=time(13),
    )
    start = datetime(2024, 5, 12, 11, tzinfo=UTC)  # a sunny Sunday midday
    MarketPrice.objects.bulk_create(
        MarketPrice(
            market=market,
            interval_start=start + timedelta(hours=i),
            interval_end=start + timedelta(hours=i + 1),
            price_per_mwh=Decimal(price),
            received_at=start,
        )
        for i, price in enumerate(["-135.4500", "-2.0000"])
    )
    indexed = {"kind": "indexed", "market": "DE-LU", "multiplier": "1.20", "adder_per_kwh": "0.05"}
    publish("IDX-RAW", JAN, None, doc(indexed, currency="EUR", timezone="Europe/Berlin"))
    publish(
        "IDX-FLOOR",
        JAN,
        None,
        doc({**indexed, "floor_per_kwh": "0.0000"}, currency="EUR", timezone="Europe/Berlin"),
    )
    period = {"from": "2024-05-12T11:00:00Z", "to": "2024-05-12T13:00:00Z"}

    raw = reader(UNIT_RATES, {"code": "IDX-RAW", **period})["data"]["unitRates"]
    floored = reader(UNIT_RATES, {"code": "IDX-FLOOR", **period})["data"]["unitRates"]

    # 1.20 × -135.45 / 1000 + 0.05 = -0.11254; 1.20 × -2 / 1000 + 0.05 = 0.0476
    assert [r["valuePerKwh"] for r in raw] == ["-0.112540", "-0.112540", "0.047600", "0.047600"]
    assert [r["valuePerKwh"] for r in floored] == ["0.000000", "0.000000", "0.047600", "0.047600"]
    missing = reader(
        UNIT_RATES, {"code": "IDX-RAW", "from": "2024-05-12T11:00:00Z", "to": "2024-05-12T14:00:00Z"}
    )
    assert missing["errors"][0]["extensions"]["domainCode"] == "missing_price"
    assert "2024-05-12T13:00:00Z" in missing["errors"][0]["message"]


def test_an_unknown_tariff_is_named(reader):
    result = reader(
        UNIT_RATES, {"code": "NOPE", "from": "2024-01-15T00:00:00Z", "to": "2024-01-16T00:00:00Z"}
    )

    assert result["errors"][0]["message"] == "No tariff 'NOPE'."
    assert result["errors"][0]["extensions"]["field"] == "tariffCode"


def test_unit_rates_carry_the_currency_of_each_versions_document(reader):
    flat = {"kind": "flat", "rate_per_kwh": "0.2000"}
    publish("FX-1", JAN, datetime(2024, 1, 15, tzinfo=UTC), doc(flat, currency="USD"))
    publish("FX-1", datetime(2024, 1, 15, tzinfo=UTC), None, doc(flat, currency="EUR"))

    rates = reader(
        """query($code: String!, $from: DateTime!, $to: DateTime!) {
          unitRates(tariffCode: $code, periodFrom: $from, periodTo: $to) {
            validFrom valuePerKwh currency } }""",
        {"code": "FX-1", "from": "2024-01-14T23:00:00Z", "to": "2024-01-15T01:00:00Z"},
    )["data"]["unitRates"]

    assert [(r["validFrom"], r["valuePerKwh"], r["currency"]) for r in rates] == [
        ("2024-01-14T23:00:00+00:00", "0.200000", "USD"),
        ("2024-01-14T23:30:00+00:00", "0.200000", "USD"),
        ("2024-01-15T00:00:00+00:00", "0.200000", "EUR"),
        ("2024-01-15T00:30:00+00:00", "0.200000", "EUR"),
    ]
