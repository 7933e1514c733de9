"""Staff writes in admin go through the services, so the API's rules hold there too: an overlapping
agreement is refused on the form and nothing is written; customers and tariffs are created and renamed
by their services."""

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from billing.models import Agreement, Customer
from billing.services.agreements import agreement_create
from billing.services.customers import customer_create
from core.services import api_client_create
from metering.services.meters import meter_point_create
from pricing.models import Market, Tariff
from pricing.services.markets import PriceInput, market_create, market_prices_import
from pricing.services.tariffs import tariff_create

pytestmark = pytest.mark.django_db
NEW_YEAR = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def supplied():
    """Customer C-1 supplied at MP-1 under FLAT from 1 January 2024, open-ended."""
    customer = customer_create(account_number="C-1", name="First")
    point = meter_point_create(identifier="MP-1")
    tariff = tariff_create(code="FLAT", name="Flat")
    agreement_create(
        account_number="C-1",
        meter_point_identifier="MP-1",
        tariff_code="FLAT",
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return customer, point, tariff


def agreement_post(customer, point, tariff, valid_from: str) -> dict:
    return {
        "customer": customer.pk,
        "meter_point": point.pk,
        "import_tariff": tariff.pk,
        "export_tariff": "",
        "valid_from_0": valid_from,
        "valid_from_1": "00:00:00",
        "valid_to_0": "",
        "valid_to_1": "",
    }


def test_an_overlapping_agreement_added_in_admin_is_refused_on_the_form(staff_client, supplied):
    other = customer_create(account_number="C-2", name="Second")
    _, point, tariff = supplied

    response = staff_client.post(
        "/admin/billing/agreement/add/", agreement_post(other, point, tariff, "2024-06-01")
    )

    assert response.status_code == 200  # the form again, with the service's error
    assert b"overlap" in response.content.lower()
    assert Agreement.objects.count() == 1


def test_an_agreement_added_in_admin_is_created_by_the_service(staff_client, supplied):
    customer, _, tariff = supplied
    point = meter_point_create(identifier="MP-2")

    response = staff_client.post(
        "/admin/billing/agreement/add/", agreement_post(customer, point, tariff, "2024-02-01")
    )

    assert response.status_code == 302
    created = Agreement.objects.get(meter_point=point)
    assert created.valid_from == datetime(2024, 2, 1, tzinfo=UTC)
    assert created.import_tariff == tariff


def test_a_customer_added_and_changed_in_admin_goes_through_the_services(staff_client):
    add = staff_client.post(
        "/admin/billing/customer/add/",
        {"account_number": " A-9 ", "name": " Nine ", "email": "nine@example.com", "address": ""},
    )
    customer = Customer.objects.get(account_number="A-9")  # stripped by customer_create
    change = staff_client.post(
        f"/admin/billing/customer/{customer.pk}/change/",
        {"name": "Nine Renamed", "email": "not-an-email", "address": ""},
    )
    customer.refresh_from_db()

    assert add.status_code == 302
    assert customer.name == "Nine"
    assert change.status_code == 200  # refused on the form: the e-mail is invalid
    assert b"email" in change.content.lower()


def test_a_tariff_renamed_in_admin_keeps_its_code_and_direction(staff_client):
    tariff = tariff_create(code="TOU", name="Time of use")

    response = staff_client.post(
        f"/admin/pricing/tariff/{tariff.pk}/change/",
        {
            "name": "Time of use 2024",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert Tariff.objects.values_list("code", "name", "direction").get() == (
        "TOU",
        "Time of use 2024",
        "IMPORT",
    )


def market_post(**changes) -> dict:
    fields = {
        "code": "EPEX-DE",
        "name": "EPEX DE-LU",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "interval_minutes": "60",
        "day_ahead_results_at": "13:00:00",
        "feed_adapter": "file",
        "feed_config": "{}",
    }
    return {**fields, **changes}


def test_a_market_added_in_admin_is_created_by_the_service_and_a_bad_zone_is_refused(staff_client):
    refused = staff_client.post("/admin/pricing/market/add/", market_post(timezone="Mars/Olympus"))
    added = staff_client.post("/admin/pricing/market/add/", market_post(code=" EPEX-DE "))

    assert refused.status_code == 200  # the form again, with the service's error on the zone
    assert b"is not an IANA time zone" in refused.content
    assert added.status_code == 302, added.content[:2000]
    assert Market.objects.values_list("code", "currency", "timezone").get() == (
        "EPEX-DE",  # stripped by market_create
        "EUR",
        "Europe/Berlin",
    )


def test_a_market_with_prices_keeps_its_currency_when_changed_in_admin(staff_client):
    market = market_create(
        code="EPEX-DE", currency="EUR", timezone="Europe/Berlin", day_ahead_results_at=time(13)
    )
    stored = market_prices_import(
        market_code="EPEX-DE",
        currency="EUR",
        prices=[PriceInput(NEW_YEAR, datetime(2024, 1, 1, 1, tzinfo=UTC), Decimal("50.00"))],
        now=datetime(2024, 1, 2, tzinfo=UTC),
    )
    assert stored.accepted == 1

    response = staff_client.post(
        f"/admin/pricing/market/{market.pk}/change/", market_post(name="Renamed", currency="GBP")
    )
    market.refresh_from_db()

    assert response.status_code == 200  # refused on the form
    assert b"has prices" in response.content
    assert (market.name, market.currency) == ("", "EUR")


def test_an_api_clients_scopes_are_changed_in_admin_through_the_service_and_unknown_ones_refused(
    staff_client,
):
    client, _ = api_client_create(name="billing-system", scopes=["billing:read"])

    refused = staff_client.post(f"/admin/core/apiclient/{client.pk}/change/", {"scopes": "billing:read root"})
    changed = staff_client.post(
        f"/admin/core/apiclient/{client.pk}/change/", {"scopes": "metering:write billing:read"}
    )
    client.refresh_from_db()

    assert refused.status_code == 200
    assert b"Unknown scopes: root" in refused.content
    assert changed.status_code == 302, changed.content[:2000]
    assert client.scopes == "billing:read metering:write"
    assert staff_client.get("/admin/core/apiclient/add/").status_code == 403
