"""Admin of the markets: prices are read-only; settled revisions are marked reviewed through the service."""

import datetime as dt
from decimal import Decimal

import pytest

from pricing.models import MarketPrice, MarketPriceRevision
from pricing.services.markets import market_ensure, market_prices_import

pytestmark = pytest.mark.django_db

START = dt.datetime(2024, 1, 15, tzinfo=dt.UTC)


@pytest.fixture
def revision():
    market_ensure(code="DE-LU")
    for price in ("10", "12"):
        market_prices_import(
            market_code="DE-LU",
            currency="EUR",
            prices=[(START, START + dt.timedelta(hours=1), Decimal(price))],
            now=dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
        )
    return MarketPriceRevision.objects.get()


def test_staff_mark_settled_revisions_as_reviewed(client, staff, revision):
    client.force_login(staff)

    response = client.post(
        "/admin/pricing/marketpricerevision/",
        {"action": "mark_reviewed", "_selected_action": [revision.pk]},
        follow=True,
    )

    assert response.status_code == 200
    revision.refresh_from_db()
    assert revision.settled
    assert revision.reviewed


def test_market_prices_are_listed_but_not_editable(client, staff, revision):
    client.force_login(staff)
    price = MarketPrice.objects.get()

    listing = client.get("/admin/pricing/marketprice/", {"market__id__exact": price.market_id})
    change = client.post(f"/admin/pricing/marketprice/{price.pk}/change/", {"price_per_mwh": "99"})

    assert listing.status_code == 200
    assert b"12.0000" in listing.content
    assert change.status_code == 403
    price.refresh_from_db()
    assert price.price_per_mwh == Decimal("12")
