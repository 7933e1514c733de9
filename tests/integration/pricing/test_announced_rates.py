from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pricing.selectors.ledger import ledger_verify
from pricing.selectors.tariffs import unit_rates
from pricing.services.dynamic import AnnouncedRate, UnableToPublishPrices, announced_rates_publish
from pricing.services.tariffs import tariff_create, tariff_version_publish

DAY = date(2013, 1, 15)
NOW = datetime(2013, 1, 14, 12, tzinfo=UTC)
BANDS = {"Low": Decimal("0.0399"), "Normal": Decimal("0.1176"), "High": Decimal("0.6720")}


@pytest.fixture
def tariff():
    tariff_create(code="DTOU", name="Announced dynamic ToU")
    tariff_version_publish(
        tariff_code="DTOU",
        valid_from=datetime(2013, 1, 1, tzinfo=UTC),
        valid_to=None,
        document={
            "format": "tariff/v1",
            "currency": "GBP",
            "timezone": "Europe/London",
            "energy": {"kind": "dynamic", "market": "LCL-DTOU", "rules": []},
        },
    )
    return "DTOU"


def announced(day: date = DAY, high_from: int = 34) -> list[AnnouncedRate]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)  # January: London is on GMT
    rates = []
    for slot in range(48):
        band = "High" if high_from <= slot < high_from + 4 else "Low" if slot < 8 else "Normal"
        begin = start + timedelta(minutes=30 * slot)
        rates.append(AnnouncedRate(begin, begin + timedelta(minutes=30), BANDS[band], band))
    return rates


@pytest.mark.django_db
def test_announced_rates_are_published_once_chained_and_priced(tariff):
    first = announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced(), now=NOW)
    again = announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced(), now=NOW)

    assert first.created
    assert not again.created
    assert again.publication.pk == first.publication.pk
    assert first.publication.rates.count() == 48
    high = first.publication.rates.order_by("interval_start")[34]
    assert high.rate_per_kwh == Decimal("0.6720")
    assert high.breakdown == [{"rule": "announced", "per_kwh": "0.672000", "note": "band High"}]
    assert ledger_verify().ok

    start = datetime(2013, 1, 15, tzinfo=UTC)
    rates = unit_rates(tariff_code=tariff, period_from=start, period_to=start + timedelta(days=1))
    assert [rate.value_per_kwh for rate in rates] == [rate.rate_per_kwh for rate in announced()]


@pytest.mark.django_db
def test_a_changed_announcement_is_a_new_revision_and_the_chain_still_verifies(tariff):
    announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced(), now=NOW)
    revised = announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced(high_from=36), now=NOW)

    assert revised.created
    assert revised.publication.revision == 2
    assert revised.ledger_entry.sequence == 2
    report = ledger_verify()
    assert report.ok
    assert report.entries_checked == 2
    start = datetime(2013, 1, 15, 17, tzinfo=UTC)
    [rate] = unit_rates(tariff_code=tariff, period_from=start, period_to=start + timedelta(minutes=30))
    assert rate.value_per_kwh == BANDS["Normal"]


@pytest.mark.django_db
def test_rates_that_do_not_cover_the_day_are_refused(tariff):
    with pytest.raises(UnableToPublishPrices, match="48 half hours"):
        announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced()[:47], now=NOW)
