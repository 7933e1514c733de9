"""Staff record payments and credit part of an invoice in admin, through the services: a second entry of
the same payment is a no-op, a credit above what remains is refused on the form and writes nothing."""

from decimal import Decimal

import pytest

from billing.models import Invoice, InvoiceAdjustment, Payment
from tests.functional.billing.test_invoice_lifecycle import make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


PAYMENT = {
    "amount": "12.34",
    "currency": "GBP",
    "received_date": "2026-03-01",
    "method": "BANK_TRANSFER",
    "reference": "BACS-1",
}


def test_a_payment_is_recorded_once_through_the_service(staff_client, customer_a):
    data = {**PAYMENT, "customer": customer_a.pk}

    first = staff_client.post("/admin/billing/payment/add/", data)
    again = staff_client.post("/admin/billing/payment/add/", data)
    conflict = staff_client.post("/admin/billing/payment/add/", {**data, "amount": "12.00"})

    assert (first.status_code, again.status_code) == (302, 302)
    payment = Payment.objects.get()
    assert (payment.amount, payment.recorded_by) == (Decimal("12.34"), "admin:staff-user")
    assert conflict.status_code == 200  # the form again, with the error on the amount
    assert "was recorded with amount 12.34" in conflict.content.decode()


def test_the_adjust_action_opens_the_form_and_the_credit_goes_through_the_service(staff_client, customer_a):
    invoice = make_invoice(customer_a, status=Invoice.Status.ISSUED, number="INV-00000901")

    action = staff_client.post(
        "/admin/billing/invoice/", {"action": "adjust_invoice", "_selected_action": [invoice.pk]}
    )
    form = staff_client.get(action["Location"])
    too_much = staff_client.post(
        action["Location"], {"invoice": invoice.pk, "total_amount": "31.51", "reason": "goodwill"}
    )
    done = staff_client.post(
        action["Location"], {"invoice": invoice.pk, "total_amount": "10.50", "reason": "goodwill"}
    )

    assert action["Location"].endswith(f"/admin/billing/invoiceadjustment/add/?invoice={invoice.pk}")
    assert form.status_code == 200
    assert too_much.status_code == 200
    assert "31.50 GBP of invoice INV-00000901 remains creditable" in too_much.content.decode()
    assert done.status_code == 302
    adjustment = InvoiceAdjustment.objects.get()
    assert (adjustment.number, adjustment.total_amount, adjustment.tax_amount) == (
        "CN-00000001",
        Decimal("10.50"),
        Decimal("0.50"),
    )
    invoice.refresh_from_db()
    assert invoice.status == "ISSUED"
