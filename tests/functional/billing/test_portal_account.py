"""The portal's account page: tariff with today's and tomorrow's rates, consumption per day and half-hour
(estimated marked), balance and activity, bills, this month's projection, and the consumption CSV."""

import csv
import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from billing.selectors.account_overview import account_overview
from tests.functional.billing.account_data import LONDON, live_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(customer_a):
    return live_account(customer_a)


def test_the_account_page_shows_tariff_rates_consumption_balance_bills_and_projection(
    client, customer_a, account
):
    client.force_login(customer_a.user)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong id="tariff-name">Live ToU</strong>' in html
    assert f'<span id="mpan">{account.mpan}</span>' in html
    assert 'id="rates-chart"' in html
    assert html.count("30.00p/kWh") >= 2 * 6  # peak half-hours today and tomorrow in the rates table
    assert "10.00p/kWh" in html
    assert html.count('class="bar estimated"') >= 1  # the estimated day on the daily chart
    assert 'id="half-hour-chart"' in html
    assert '<p class="big" id="balance">£11.81</p>' in html  # last month's bill, unpaid
    assert "INV-LIVE-1" in html
    assert 'id="projection-low"' in html
    assert 'id="projection-high"' in html
    assert 'href="/consumption.csv"' in html


def test_the_projection_is_a_range_around_the_month_so_far(customer_a, account):
    overview = account_overview(customer=customer_a, now=account.now)

    projection = overview.projection
    assert projection is not None
    # every day: peak 6 x 0.3 kWh x 30p + off-peak 42 x 0.1 kWh x 10p = 96p, standing charge 45p; no tax in
    # the tariff: the latest bill's tax ratio (£0.56 on £11.25)
    per_day = (Decimal("0.96") + Decimal("0.45")) * (1 + Decimal("0.56") / Decimal("11.25"))
    # A clock-change day in the window has 46 or 50 half-hours (2p more or less): allow for it then.
    window = [account.today - timedelta(days=d) for d in range(1, 62)]
    clock_change = any(
        datetime.combine(d, time(), LONDON).utcoffset() != datetime.combine(d, time(23), LONDON).utcoffset()
        for d in window
    )
    tolerance = Decimal("0.70") if clock_change else Decimal("0.01")
    assert projection.low <= projection.high
    if not clock_change:
        assert projection.low == projection.high  # identical days: no spread
    assert abs(projection.low - per_day * projection.days_in_month) < tolerance
    assert abs(projection.so_far - per_day * projection.days_elapsed) < tolerance


def test_the_rates_of_today_and_tomorrow_and_the_estimated_day_are_marked(customer_a, account):
    overview = account_overview(customer=customer_a, now=account.now)

    assert len(overview.rates_today) in (46, 48, 50)
    assert len(overview.rates_tomorrow) in (46, 48, 50)
    assert {r.unit_rate_per_kwh for r in overview.rates_today} == {Decimal("0.1"), Decimal("0.3")}
    estimated = [u.local_start.date() for u in overview.daily if u.estimated]
    assert estimated == [account.estimated_day]
    assert len(overview.half_hourly) in (46, 48, 50)
    assert overview.rate_now in (Decimal("0.1"), Decimal("0.3"))


def test_the_consumption_csv_has_every_half_hour_with_its_quality(client, customer_a, account):
    client.force_login(customer_a.user)
    start = account.estimated_day - timedelta(days=1)

    response = client.get(f"/consumption.csv?from={start}&to={account.estimated_day + timedelta(days=1)}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) in (96, 94, 98)  # two local days of half-hours
    assert {r["mpan"] for r in rows} == {account.mpan}
    assert sum(r["estimated"] == "yes" for r in rows) == len(rows) // 2  # the second day
    assert {r["energy_kwh"] for r in rows} == {"0.1000", "0.3000"}


def test_the_consumption_csv_per_day_and_for_another_account_is_not_shown(
    client, customer_a, customer_b, account
):
    client.force_login(customer_b.user)
    assert client.get("/consumption.csv").status_code == 404  # B has no supply; A's is never shown

    client.force_login(customer_a.user)
    rows = list(csv.DictReader(io.StringIO(client.get("/consumption.csv?group=DAY").content.decode())))
    assert 29 <= len(rows) <= 31
    assert any(r["estimated"] == "yes" for r in rows)
