"""Publishing a day of dynamic prices (pricing/services/dynamic.py): rates, breakdowns, revisions, ledger."""

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from metering.models import LoadAggregate
from pricing.models import (
    LedgerEntry,
    Market,
    MarketPrice,
    PublishedRate,
    RatePublication,
    Tariff,
    TariffVersion,
)
from pricing.selectors.ledger import ledger_verify, publication_content_sha256
from pricing.services import dynamic as services
from pricing.tasks.dynamic import dynamic_prices_publish_due_task

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2024, 1, 15)
NOW = datetime(2024, 1, 14, 13, 0, tzinfo=UTC)
MARKET_RULES = [
    {"kind": "market", "multiplier": "1.2", "adder_per_kwh": "0.05"},
    {"kind": "floor", "per_kwh": "0"},
]


def make_market(code: str = "DE-LU") -> Market:
    market, _ = Market.objects.get_or_create(
        code=code,
        defaults={
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "interval_minutes": 60,
            "day_ahead_results_at": time(13, 0),
        },
    )
    return market


def make_prices(day: date = DAY, price: str = "100.0000", code: str = "DE-LU", *, hourly=None) -> None:
    market = make_market(code)
    start = datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)
    rows, h = [], 0
    while start + timedelta(hours=h) < end:
        value = hourly(h) if hourly else Decimal(price)
        rows.append(
            MarketPrice(
                market=market,
                interval_start=start + timedelta(hours=h),
                interval_end=start + timedelta(hours=h + 1),
                price_per_mwh=value,
                received_at=NOW,
            )
        )
        h += 1
    MarketPrice.objects.bulk_create(rows)


def make_dynamic_tariff(code: str = "DYN-1", rules=None, market: str = "DE-LU") -> Tariff:
    document = {
        "format": "tariff/v1",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "energy": {"kind": "dynamic", "market": market, "rules": MARKET_RULES if rules is None else rules},
    }
    tariff = Tariff.objects.create(code=code, name=code)
    TariffVersion.objects.create(
        tariff=tariff,
        valid_from=datetime(2023, 12, 31, 23, 0, tzinfo=UTC),
        document=document,
        kind="dynamic",
        document_sha256=hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest(),
        published_at=NOW,
    )
    return tariff


def publish(code: str = "DYN-1", day: date = DAY, **kwargs) -> services.PublishOutcome:
    return services.dynamic_prices_publish(tariff_code=code, day=day, now=NOW, **kwargs)


def test_publishing_writes_the_days_rates_with_breakdowns_and_the_first_ledger_entry():
    make_dynamic_tariff()
    make_prices(hourly=lambda h: Decimal(-40 if h == 3 else 100 + h))

    outcome = publish()

    publication = outcome.publication
    rates = list(PublishedRate.objects.filter(publication=publication).order_by("interval_start"))
    assert outcome.created
    assert publication.revision == 1
    assert len(rates) == 48
    assert rates[0].interval_start == datetime(2024, 1, 14, 23, 0, tzinfo=UTC)
    assert rates[0].rate_per_kwh == Decimal("0.170000")  # 100/1000 × 1.2 + 0.05
    assert rates[6].rate_per_kwh == Decimal("0.002000")  # -40 → -0.048 + 0.05
    assert rates[0].breakdown[0] == {
        "rule": "market",
        "per_kwh": "0.170000",
        "note": "100.0000 /MWh × 1.2 + 0.05",
    }
    for rate in rates:
        assert sum(Decimal(step["per_kwh"]) for step in rate.breakdown) == rate.rate_per_kwh
    entry = outcome.ledger_entry
    assert (entry.sequence, entry.previous_sha256) == (1, "0" * 64)
    assert (
        entry.content_sha256 == publication.content_sha256 == publication_content_sha256(publication, rates)
    )
    assert ledger_verify().ok


def test_floor_applies_to_negative_market_prices():
    make_dynamic_tariff()
    make_prices(price="-500.0000")

    publish()

    assert set(PublishedRate.objects.values_list("rate_per_kwh", flat=True)) == {Decimal("0.000000")}


def test_republishing_identical_content_returns_the_existing_publication():
    make_dynamic_tariff()
    make_prices()
    first = publish()

    again = publish()

    assert not again.created
    assert again.publication.pk == first.publication.pk
    assert RatePublication.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert PublishedRate.objects.count() == 48


def test_changed_input_publishes_revision_two_with_a_second_chained_entry():
    make_dynamic_tariff(
        rules=[*MARKET_RULES, {"kind": "weather", "normal_c": "15", "per_kwh_per_degree": "0.01"}]
    )
    make_prices()
    first = publish()
    cold = {datetime(2024, 1, 15, 6, 0, tzinfo=UTC): "-5"}

    second = publish(temperatures=cold)

    assert second.created
    assert second.publication.revision == 2
    assert second.ledger_entry.sequence == 2
    assert second.ledger_entry.previous_sha256 == first.ledger_entry.entry_sha256
    cold_rate = PublishedRate.objects.get(
        publication=second.publication, interval_start=datetime(2024, 1, 15, 6, 0, tzinfo=UTC)
    )
    assert cold_rate.rate_per_kwh == Decimal("0.370000")  # 0.17 + 20 degrees × 0.01
    assert publish(temperatures=cold).publication.pk == second.publication.pk
    assert ledger_verify().ok


def test_demand_rule_uses_the_average_of_recent_region_aggregates_or_the_forecast():
    demand = {
        "kind": "demand",
        "region": "north",
        "capacity_kwh": "100",
        "threshold": "0.5",
        "per_kwh_at_full": "0.10",
    }
    make_dynamic_tariff(rules=[{"kind": "market"}, demand])
    make_prices()
    slot = datetime(2024, 1, 15, 18, 0, tzinfo=BERLIN)  # 18:00 local
    LoadAggregate.objects.bulk_create(
        LoadAggregate(
            level=LoadAggregate.Level.REGION,
            code="north",
            interval_start=(slot - timedelta(days=back)).astimezone(UTC),
            interval_end=(slot - timedelta(days=back)).astimezone(UTC) + timedelta(minutes=30),
            import_kwh=Decimal(70 + back),
            export_kwh=Decimal(0),
            reading_count=1,
            estimated_count=0,
            updated_at=NOW,
        )
        for back in range(1, 4)
    )

    publish()
    forecast = {slot.astimezone(UTC): Decimal("100")}
    revised = publish(load_forecast=forecast)

    historic = PublishedRate.objects.get(publication__revision=1, interval_start=slot)
    assert historic.breakdown[1]["per_kwh"] == "0.044000"  # avg 72 → (0.72 − 0.5)/0.5 × 0.10
    assert "7-day average of 3 days" in historic.breakdown[1]["note"]
    morning = PublishedRate.objects.filter(publication__revision=1).order_by("interval_start").first()
    assert morning.breakdown[1]["note"] == "no load data for region north"
    assert (
        PublishedRate.objects.get(publication=revised.publication, interval_start=slot).breakdown[1][
            "per_kwh"
        ]
        == "0.100000"
    )


def test_a_dst_day_publishes_46_intervals():
    make_dynamic_tariff()
    make_prices(day=date(2024, 3, 31))

    publish(day=date(2024, 3, 31))

    assert PublishedRate.objects.count() == 46


def test_a_missing_market_price_names_the_interval_and_writes_nothing():
    make_dynamic_tariff()
    make_prices()
    MarketPrice.objects.filter(interval_start=datetime(2024, 1, 15, 5, 0, tzinfo=UTC)).delete()

    with pytest.raises(services.NoMarketPriceForInterval, match="2024-01-15T05:00:00Z"):
        publish()

    assert not RatePublication.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_an_invalid_rule_parameter_is_named():
    make_dynamic_tariff(rules=[{"kind": "market", "multiplier": "x"}])
    make_prices()

    with pytest.raises(services.InvalidDynamicRule) as raised:
        publish()

    assert raised.value.field == "document.energy.rules[0].multiplier"


def test_unknown_and_non_dynamic_tariffs_are_refused():
    tariff = Tariff.objects.create(code="FLAT", name="flat")
    document = {
        "format": "tariff/v1",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "energy": {"kind": "flat", "rate_per_kwh": "0.3"},
    }
    TariffVersion.objects.create(
        tariff=tariff,
        valid_from=datetime(2023, 1, 1, tzinfo=UTC),
        document=document,
        kind="flat",
        document_sha256="0" * 64,
        published_at=NOW,
    )

    with pytest.raises(services.TariffNotFound):
        publish("NOPE")
    with pytest.raises(services.NotADynamicTariff):
        publish("FLAT")


def test_the_due_task_publishes_tomorrow_once_the_day_ahead_results_are_in():
    make_dynamic_tariff()
    make_prices()
    before = datetime(2024, 1, 14, 11, 59, tzinfo=UTC)  # 12:59 Berlin: results arrive at 13:00
    after = datetime(2024, 1, 14, 12, 5, tzinfo=UTC)

    assert dynamic_prices_publish_due_task(now=before.isoformat())["not_due"] == ["DYN-1"]
    assert dynamic_prices_publish_due_task(now=after.isoformat())["published"] == ["DYN-1"]
    assert dynamic_prices_publish_due_task(now=after.isoformat())["already_published"] == ["DYN-1"]
    assert RatePublication.objects.get().day == DAY


def test_the_due_task_reports_a_tariff_it_cannot_price_and_carries_on():
    make_dynamic_tariff("DYN-A")
    make_dynamic_tariff("DYN-B", market="FR")
    make_market("FR")
    make_prices()

    report = services.dynamic_prices_publish_due(now=datetime(2024, 1, 14, 12, 5, tzinfo=UTC))

    assert report.published == ["DYN-A"]
    assert "DYN-B" in report.failed
    assert "FR" in report.failed["DYN-B"]


def test_publish_command(capsys):
    make_dynamic_tariff()
    make_prices()

    call_command("dynamic_prices_publish", "--tariff", "DYN-1", "--day", "2024-01-15")
    call_command("dynamic_prices_publish", "--tariff", "DYN-1", "--day", "2024-01-15")

    out = capsys.readouterr().out
    assert "revision 1: published" in out
    assert "unchanged" in out
    assert RatePublication.objects.count() == 1
