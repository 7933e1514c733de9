"""Staff see an account in admin at a glance (agreements, meters, invoices, payments, balance); bill-run items
are paginated and filterable by outcome and held reason; the admin carries the supplier's name."""

from datetime import UTC, date, datetime

import pytest

from billing.models import BillRun, BillRunItem, Customer
from billing.services.invoices import invoice_void
from tests.functional.billing.test_portal import make_invoice, supply

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_the_customer_page_shows_agreements_meters_invoices_payments_and_balance(staff_client, customer_a):
    supply(customer_a, "M-A1", "TOU-A")
    make_invoice(customer_a, "INV-000101")
    make_invoice(
        customer_a,
        "INV-000042",
        period_start=date(2023, 12, 1),
        period_end=date(2024, 1, 1),
        issued_at=datetime(2024, 1, 2, tzinfo=UTC),
    )
    invoice_void(number="INV-000042", reason="Wrong meter", now=datetime(2024, 1, 5, tzinfo=UTC))

    response = staff_client.get(f"/admin/billing/customer/{customer_a.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<span id="account-balance">£11.81</span>' in html  # two bills of £11.81, one credited
    assert "MP-M-A1" in html
    assert "Tariff TOU-A (TOU-A)" in html
    assert "<td>M-A1</td><td>IMPORT</td>" in html  # its meter
    assert "INV-000101" in html
    assert "1\u2009–\u20097 Jan 2024" in html
    assert "23 Jan 2024" in html
    assert "CREDIT_NOTE" in html
    assert "-£11.81" in html
    assert 'name="account_number"' not in html  # still read-only


def make_run(customers: list[Customer]) -> BillRun:
    run = BillRun.objects.create(
        idempotency_key="run-items", period_start=date(2024, 1, 1), period_end=date(2024, 2, 1)
    )
    for i, customer in enumerate(customers):
        held = i % 3 == 0
        BillRunItem.objects.create(
            bill_run=run,
            customer=customer,
            outcome=BillRunItem.Outcome.HELD if held else BillRunItem.Outcome.INVOICED,
            reason=("No readings for: 2024-01-0" + str(i % 9 + 1))
            if held and i % 2
            else ("Readings suspect: spike" if held else ""),
        )
    return run


def test_bill_run_items_are_paginated_and_filtered_by_outcome_and_held_reason(staff_client):
    customers = [Customer.objects.create(account_number=f"ACC-{i:03d}", name=f"C {i}") for i in range(120)]
    run = make_run(customers)
    url = "/admin/billing/billrunitem/"

    first_page = staff_client.get(url, {"bill_run__id__exact": run.pk})
    held = staff_client.get(url, {"bill_run__id__exact": run.pk, "outcome__exact": "HELD"})
    no_readings = staff_client.get(url, {"bill_run__id__exact": run.pk, "reason": "No readings for"})
    run_page = staff_client.get(f"/admin/billing/billrun/{run.pk}/change/")

    assert first_page.status_code == 200
    assert first_page.context["cl"].result_count == 120
    assert len(first_page.context["cl"].result_list) == 50  # paginated
    assert held.context["cl"].result_count == 40
    assert no_readings.context["cl"].result_count == 20  # held with an odd index
    assert b"No readings for" in held.content
    assert b"Readings suspect" in held.content
    assert f'bill_run__id__exact={run.pk}&amp;outcome__exact=HELD">40 held</a>'.encode() in run_page.content
    assert b"80 invoiced" in run_page.content


def test_the_admin_is_branded_with_the_supplier(staff_client, settings):
    html = staff_client.get("/admin/").content.decode()

    assert f'<a href="/admin/">{settings.SUPPLIER_NAME} operations</a>' in html  # SUPPLIER_NAME
    assert f"<title>Metering, pricing, billing and grid | {settings.SUPPLIER_NAME} admin</title>" in html
