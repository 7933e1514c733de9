"""Balancing runs: measured feeder load, limits, bands published through pricing's ledger; what-if."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from grid.services.balancing import BAND_RATES, UnableToBalance, balancing_run, price_signal_what_if
from grid.services.storage import feeder_limit_set
from metering.models import LoadAggregate
from pricing.selectors.ledger import ledger_verify, publication_latest, published_rate_list
from tests.factories.pricing import make_announced_dtou_tariff

pytestmark = pytest.mark.django_db
DAY = date(2013, 1, 15)
NOW = datetime(2013, 1, 14, 16, tzinfo=UTC)


@pytest.fixture
def feeder_history():
    """Feeder F1's measured load a week before DAY: 50 kW, 90 kW in the evening (17:00-20:00)."""
    start = datetime(2013, 1, 8, tzinfo=UTC)
    rows = []
    for k in range(48):
        kw = 90.0 if 34 <= k < 40 else 50.0
        begin = start + timedelta(minutes=30 * k)
        rows.append(
            LoadAggregate(
                level=LoadAggregate.Level.FEEDER,
                code="F1",
                interval_start=begin,
                interval_end=begin + timedelta(minutes=30),
                import_kwh=Decimal(str(kw / 2)),
                export_kwh=Decimal("0"),
                reading_count=100,
                estimated_count=0,
                updated_at=NOW,
            )
        )
    LoadAggregate.objects.bulk_create(rows)


def test_a_balancing_run_puts_high_bands_on_the_evening_peak_and_publishes_them(feeder_history):
    tariff = make_announced_dtou_tariff("DTOU")
    feeder_limit_set(feeder_code="F1", import_limit_kw=Decimal("87"), export_limit_kw=Decimal("50"))

    run = balancing_run(tariff_code=tariff, day=DAY, now=NOW, publish=True)

    assert run.status == "published"
    assert run.peak_before_kw == pytest.approx(90.0)
    assert run.peak_after_kw < 87.0
    assert run.shed_kwh_with_signal == 0.0 < run.shed_kwh_without_signal
    publication = publication_latest(tariff_code=tariff, day=DAY)
    assert publication.revision == run.publication_revision == 1
    rates = list(published_rate_list(publication=publication))
    high = [r.interval_start.hour for r in rates if r.rate_per_kwh == BAND_RATES["High"]]
    assert sorted(set(high)) == [17, 18, 19]
    assert ledger_verify().ok
    # the same day balanced again publishes nothing new (identical content)
    balancing_run(tariff_code=tariff, day=DAY, now=NOW, publish=True)
    assert publication_latest(tariff_code=tariff, day=DAY).revision == 1


def test_what_if_gives_each_feeders_load_and_the_peak_change(feeder_history):
    bands = ["Normal"] * 34 + ["High"] * 6 + ["Normal"] * 8

    what_if = price_signal_what_if(day=DAY, bands=bands, feeder_codes=["F1"])

    assert what_if.peak_before_kw == pytest.approx(90.0)
    assert what_if.peak_after_kw < 90.0
    assert np.all(what_if.feeders["F1"].after_kw[:34] == 50.0)


def test_what_if_rejects_a_signal_of_the_wrong_length():
    with pytest.raises(UnableToBalance, match="Give 48 bands"):
        price_signal_what_if(day=DAY, bands=["High"], feeder_codes=["F1"])
