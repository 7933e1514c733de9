"""Portal: "what you would have paid on our other tariffs" over the customer's own last 12 months; admin:
a comparison run's fairness table and exports."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Agreement, TariffComparisonRun
from billing.services.comparison import (
    Cohort,
    own_tariff_comparison,
    tariff_comparison_run_execute,
    tariff_comparison_run_start,
)
from tests.factories.metering import make_meter
from tests.integration.billing.test_bill_runs import ingest_bulk, make_tariff

pytestmark = pytest.mark.django_db
NOV_2023 = datetime(2023, 11, 1, tzinfo=UTC)  # GMT: local midnight
YEAR_HALF_HOURS = 366 * 48  # November 2023 to October 2024 (February 2024 has 29 days)


@pytest.fixture
def year_of_readings(customer_a):
    flat = make_tariff("FLAT")
    make_tariff("CHEAP", document={
        "format": "tariff/v1", "currency": "GBP", "timezone": "Europe/London",
        "energy": {"kind": "flat", "rate_per_kwh": "0.20"},
    })  # fmt: skip
    meter = make_meter("PORTAL-1")
    Agreement.objects.create(
        customer=customer_a,
        meter_point=meter.meter_point,
        import_tariff=flat,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
    )
    ingest_bulk([meter], NOV_2023, YEAR_HALF_HOURS, 1000)
    return customer_a


def test_own_comparison_sums_twelve_monthly_bills_per_tariff(year_of_readings):
    result = own_tariff_comparison(customer_id=year_of_readings.pk, as_of=date(2024, 11, 15))
    totals = {code: total for code, _, total in result.tariffs}
    assert (result.period_start, result.period_end) == (date(2023, 11, 1), date(2024, 11, 1))
    # 1756.8 kWh: FLAT = 12 monthly bills of 0.25/kWh + 0.50/day + 5 % VAT; CHEAP = 0.20/kWh, no tax
    assert totals["FLAT"] == result.current
    assert totals["CHEAP"] == Decimal("351.36")  # 17568 × 0.1 kWh × 0.20, each month exact


def test_the_portal_page_shows_the_customers_own_comparison(year_of_readings, client, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: date(2024, 11, 15))
    client.force_login(year_of_readings.user)
    page = client.get(reverse("portal:compare")).content.decode()
    assert "What you would have paid on our other tariffs" in page
    assert "351.36" in page
    assert 'href="/compare/"' in client.get(reverse("portal:home")).content.decode() or "compare" in page


def test_the_portal_page_needs_a_sign_in(client):
    response = client.get(reverse("portal:compare"))
    assert response.status_code == 302


def test_admin_shows_the_fairness_table_and_exports(year_of_readings, client, staff):
    now = datetime(2024, 11, 2, tzinfo=UTC)
    run = tariff_comparison_run_start(
        tariff_codes=["CHEAP"],
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        cohort=Cohort(),
        now=now,
    )
    tariff_comparison_run_execute(run_id=run.pk, now=now)
    client.force_login(staff)
    page = client.get(reverse("admin:billing_tariffcomparisonrun_change", args=[run.pk])).content.decode()
    assert "Gini of bills" in page
    assert "Scenario: base" in page
    assert 'id="sensitivity-chart"' in page
    csv_export = client.get(reverse("admin:billing_tariffcomparisonrun_export", args=[run.pk, "csv"]))
    assert csv_export.content.decode().startswith("scenario,tariff_code,accounts")
    xlsx = client.get(reverse("admin:billing_tariffcomparisonrun_export", args=[run.pk, "xlsx"]))
    assert xlsx.content[:2] == b"PK"
    assert TariffComparisonRun.objects.get(pk=run.pk).status == "COMPLETED"
