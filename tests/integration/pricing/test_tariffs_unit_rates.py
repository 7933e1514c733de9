"""Unit rates of every tariff kind, over DST days, version changes, events, market and published prices."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pricing.models import Market, MarketPrice, PricingEvent, PublishedRate, RatePublication, Tariff
from pricing.selectors.tariffs import UnableToPriceTariff, unit_rates
from tests.integration.pricing.test_tariffs import JAN, doc, publish

pytestmark = pytest.mark.django_db

DAY = datetime(2024, 1, 15, tzinfo=UTC)  # a Monday
HOURS = ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5  # peak 16:00-19:00 local
TOU = {
    "kind": "tou",
    "rates_per_kwh": {"off_peak": "0.0800", "peak": "0.2000"},
    "weekday": HOURS,
    "weekend": HOURS,
}


def rates(code: str, start: datetime, end: datetime) -> list[tuple[str, str, str]]:
    """(start UTC HH:MM or ISO, value, band) of each interval."""
    return [
        (r.valid_from.isoformat(), str(r.value_per_kwh), r.band)
        for r in unit_rates(tariff_code=code, period_from=start, period_to=end)
    ]


def local_day(day: date, zone: str) -> tuple[datetime, datetime]:
    z = ZoneInfo(zone)
    return datetime.combine(day, time(), z), datetime.combine(day + timedelta(days=1), time(), z)


def test_a_flat_tariff_gives_every_half_hour_of_the_day_its_rate():
    publish("FLAT-1", JAN, None, doc())

    result = unit_rates(tariff_code="FLAT-1", period_from=DAY, period_to=DAY + timedelta(days=1))

    assert len(result) == 48
    assert {(r.value_per_kwh, r.band) for r in result} == {(Decimal("0.245000"), "flat")}
    assert str(result[0].value_per_kwh) == "0.245000"
    assert (result[0].valid_from, result[0].valid_to) == (DAY, DAY + timedelta(minutes=30))
    assert result[-1].valid_to == DAY + timedelta(days=1)


def test_a_tiered_tariff_shows_its_first_tier():
    tiers = [{"up_to_kwh": "300", "rate_per_kwh": "0.20"}, {"up_to_kwh": None, "rate_per_kwh": "0.25"}]
    publish("TIER-1", JAN, None, doc({"kind": "tiered", "tiers": tiers}))

    result = rates("TIER-1", DAY, DAY + timedelta(hours=1))

    assert [(v, b) for _, v, b in result] == [("0.200000", "tier_1")] * 2


@pytest.mark.parametrize(
    ("zone", "day", "count", "peak_utc"),
    [
        ("Europe/London", date(2024, 3, 31), 46, "15:00"),  # BST from 01:00 UTC: 16:00 BST = 15:00 UTC
        ("Europe/London", date(2024, 10, 27), 50, "16:00"),  # back to GMT
        ("Europe/Berlin", date(2024, 3, 31), 46, "14:00"),  # CEST
        ("Europe/Berlin", date(2024, 10, 27), 50, "15:00"),  # CET
        ("America/Chicago", date(2024, 3, 10), 46, "21:00"),  # CDT
        ("America/Chicago", date(2024, 11, 3), 50, "22:00"),  # CST
    ],
)
def test_a_tou_tariff_follows_local_time_on_dst_days(zone, day, count, peak_utc):
    publish("TOU-1", datetime(2024, 1, 1, tzinfo=UTC), None, doc(TOU, timezone=zone))

    result = rates("TOU-1", *local_day(day, zone))

    peak = [start for start, value, band in result if band == "peak"]
    assert len(result) == count
    assert len(peak) == 6
    assert peak[0] == f"{day.isoformat()}T{peak_utc}:00+00:00"
    assert {value for _, value, band in result if band == "off_peak"} == {"0.080000"}
    assert {value for _, value, band in result if band == "peak"} == {"0.200000"}


def test_a_tou_tariff_uses_the_weekend_schedule_and_public_holidays():
    weekday_only = {**TOU, "weekend": ["off_peak"] * 24, "holidays": "GB"}
    publish("TOU-1", JAN, None, doc(weekday_only))

    def peak_count(day: datetime) -> int:
        return sum(band == "peak" for *_, band in rates("TOU-1", day, day + timedelta(days=1)))

    assert peak_count(DAY) == 6  # Monday
    assert peak_count(datetime(2024, 1, 13, tzinfo=UTC)) == 0  # Saturday
    assert peak_count(datetime(2024, 5, 5, 23, tzinfo=UTC)) == 0  # 6 May, early May bank holiday (BST)


def test_each_interval_is_priced_by_the_version_valid_at_its_start():
    change = DAY + timedelta(hours=12, minutes=15)  # not on a half-hour: 12:00 keeps the old version
    publish("FLAT-1", JAN, change, doc({"kind": "flat", "rate_per_kwh": "0.20"}))
    publish("FLAT-1", change, None, doc({"kind": "flat", "rate_per_kwh": "0.30"}))

    result = rates("FLAT-1", DAY, DAY + timedelta(days=1))

    assert [v for _, v, _ in result] == ["0.200000"] * 25 + ["0.300000"] * 23
    assert result[25][0] == "2024-01-15T12:30:00+00:00"


def test_events_replace_the_energy_rate_and_emergencies_win():
    events = {"critical_peak": {"rate_per_kwh": "0.4000"}, "emergency": {"rate_per_kwh": "0.8000"}}
    publish("FLAT-1", JAN, None, doc(events=events))
    publish("OTHER-1", JAN, None, doc(events=events))
    for kind, start, end, tariff in [
        (PricingEvent.Kind.CRITICAL_PEAK, "17:00", "19:00", "FLAT-1"),
        (PricingEvent.Kind.EMERGENCY, "18:00", "18:45", "FLAT-1"),  # ends mid-interval: 18:30 starts inside
        (PricingEvent.Kind.EMERGENCY, "10:00", "11:00", "OTHER-1"),  # another tariff's event
    ]:
        event = PricingEvent.objects.create(
            kind=kind,
            start=datetime.combine(DAY.date(), time.fromisoformat(start), UTC),
            end=datetime.combine(DAY.date(), time.fromisoformat(end), UTC),
            declared_at=DAY,
        )
        event.tariffs.add(Tariff.objects.get(code=tariff))

    result = {
        start[11:16]: (value, band) for start, value, band in rates("FLAT-1", DAY, DAY + timedelta(days=1))
    }

    assert result["16:30"] == ("0.245000", "flat")
    assert result["17:00"] == result["17:30"] == ("0.400000", "critical_peak")
    assert result["18:00"] == result["18:30"] == ("0.800000", "emergency")
    assert result["19:00"] == result["10:00"] == ("0.245000", "flat")


INDEXED = {"kind": "indexed", "market": "DE-LU", "multiplier": "1.20", "adder_per_kwh": "0.05"}


@pytest.fixture
def market():
    return Market.objects.create(
        code="DE-LU",
        currency="EUR",
        timezone="Europe/Berlin",
        interval_minutes=60,
        day_ahead_results_at=time(13),
    )


def add_prices(market: Market, start: datetime, prices: list[str]) -> None:
    MarketPrice.objects.bulk_create(
        MarketPrice(
            market=market,
            interval_start=start + timedelta(hours=i),
            interval_end=start + timedelta(hours=i + 1),
            price_per_mwh=Decimal(price),
            received_at=start,
        )
        for i, price in enumerate(prices)
    )


@pytest.mark.parametrize(
    ("floor", "expected"),
    [
        (None, ["-0.010000", "-0.010000", "0.170000", "0.170000", "0.050000", "0.050000"]),
        ("0.00", ["0.000000", "0.000000", "0.170000", "0.170000", "0.050000", "0.050000"]),
    ],
)
def test_an_indexed_tariff_follows_the_market_with_negative_prices_and_an_optional_floor(
    market, floor, expected, django_assert_num_queries
):
    publish("IDX-1", JAN, None, doc({**INDEXED, "floor_per_kwh": floor}, timezone="Europe/Berlin"))
    add_prices(market, DAY, ["-50.00", "100.00", "0.00"])

    with django_assert_num_queries(4):  # tariff, versions, events, market prices
        result = rates("IDX-1", DAY, DAY + timedelta(hours=3))

    assert [value for _, value, _ in result] == expected


def test_an_indexed_tariff_adds_the_peak_adder_in_local_time(market):
    peak = {"from": "16:00", "to": "19:00", "per_kwh": "0.12"}
    publish(
        "IDX-1",
        JAN,
        None,
        doc({**INDEXED, "peak_adder": peak, "cap_per_kwh": "0.25"}, timezone="Europe/Berlin"),
    )
    add_prices(market, DAY + timedelta(hours=14), ["100.00", "100.00", "100.00"])  # 15:00-18:00 CET

    result = rates("IDX-1", DAY + timedelta(hours=14), DAY + timedelta(hours=17))

    assert [(v, b) for _, v, b in result] == [("0.170000", "indexed")] * 2 + [
        ("0.250000", "indexed_peak")
    ] * 4


def test_a_missing_market_price_is_named(market):
    publish("IDX-1", JAN, None, doc(INDEXED, timezone="Europe/Berlin"))
    add_prices(market, DAY, ["10.00"])

    with pytest.raises(
        UnableToPriceTariff, match="no market price covers the interval starting 2024-01-15T01:00:00Z"
    ):
        unit_rates(tariff_code="IDX-1", period_from=DAY, period_to=DAY + timedelta(hours=2))


def test_a_dynamic_tariff_gives_the_latest_revision_of_its_published_rates():
    version = publish("DYN-1", JAN, None, doc({"kind": "dynamic", "market": "GB"}))
    for revision, rate in ((1, "0.100000"), (2, "0.150000")):
        publication = RatePublication.objects.create(
            tariff=version.tariff, tariff_version=version, day=DAY.date(), revision=revision,
            published_at=DAY, content_sha256=str(revision) * 64,
        )  # fmt: skip
        PublishedRate.objects.bulk_create(
            PublishedRate(
                publication=publication,
                interval_start=DAY + timedelta(minutes=30 * i),
                interval_end=DAY + timedelta(minutes=30 * (i + 1)),
                rate_per_kwh=Decimal(rate) + i,
                breakdown=[],
            )
            for i in range(48)
        )

    result = rates("DYN-1", DAY, DAY + timedelta(hours=1))

    assert result == [
        ("2024-01-15T00:00:00+00:00", "0.150000", "dynamic"),
        ("2024-01-15T00:30:00+00:00", "1.150000", "dynamic"),
    ]
    with pytest.raises(
        UnableToPriceTariff, match="No published rate covers the interval starting 2024-01-16T00:00:00Z"
    ):
        unit_rates(tariff_code="DYN-1", period_from=DAY, period_to=DAY + timedelta(days=2))


@pytest.mark.parametrize(
    ("period_from", "period_to", "field", "message"),
    [
        (DAY, DAY + timedelta(days=401), "period_to", "at most 400 days"),
        (DAY + timedelta(minutes=10), DAY + timedelta(days=1), "period_from", "not on a half-hour boundary"),
        (DAY, DAY, "period_to", "periodTo must be after periodFrom"),
        (DAY - timedelta(days=30), DAY, "period_from", "no version valid at 2023-12-16T00:00:00Z"),
    ],
)
def test_a_period_that_cannot_be_priced_is_refused(period_from, period_to, field, message):
    publish("FLAT-1", JAN, None, doc())

    with pytest.raises(UnableToPriceTariff) as refused:
        unit_rates(tariff_code="FLAT-1", period_from=period_from, period_to=period_to)

    assert refused.value.field == field
    assert message in refused.value.messages[0]
