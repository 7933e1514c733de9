"""The admin pages of an invoice that a bill run created (its audit entry has no old values)."""

import pytest

from core.audit import log_entries_create
from tests.functional.billing.test_portal import make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def bill_run_invoice(customer_a):
    invoice = make_invoice(customer_a, "INV-000201")
    # What a bill run records for each invoice it creates (billing.services.bill_runs).
    log_entries_create(
        [
            (
                invoice,
                {
                    "status": [None, invoice.status],
                    "period": [None, f"{invoice.period_start}/{invoice.period_end}"],
                    "total_amount": [None, str(invoice.total_amount)],
                    "lines": [None, "2"],
                },
            )
        ],
        additional_data={"bill_run": 1},
    )
    return invoice


def test_the_change_page_of_a_bill_run_invoice_is_served(client, staff, bill_run_invoice):
    """RELIABILITY check 43 (audit coverage; the audit trail stays readable in admin): the change page
    was a 500 because django-auditlog formatted a None old value."""
    client.force_login(staff)

    page = client.get(f"/admin/billing/invoice/{bill_run_invoice.pk}/change/")
    history = client.get(f"/admin/billing/invoice/{bill_run_invoice.pk}/auditlog/")

    assert page.status_code == 200
    assert "status: — → ISSUED" in page.content.decode()
    assert history.status_code == 200
