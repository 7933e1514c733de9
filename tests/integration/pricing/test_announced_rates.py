from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pricing.selectors.ledger import ledger_verify
from pricing.selectors.tariffs import unit_rates
from pricing.services.dynamic import UnableToPublishPrices, announced_rates_publish
from tests.factories.pricing import BANDS, announced, make_announced_dtou_tariff

DAY = date(2013, 1, 15)
NOW = datetime(2013, 1, 14, 12, tzinfo=UTC)


@pytest.fixture
def tariff():
    return make_announced_dtou_tariff()


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
