"""No two live invoices of an account cover the same day (issue 10 item 1; RELIABILITY.md check 23)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.models import BillRun, BillRunItem, Invoice
from billing.services.bill_runs import bill_run_execute, bill_run_start
from billing.services.invoices import invoice_issue, invoice_void
from tests.integration.billing.test_bill_runs import RUN_AT, make_accounts, make_tariff, start_and_execute


def run_for(key, period_start, period_end):
    run = bill_run_start(period_start=period_start, period_end=period_end, idempotency_key=key, now=RUN_AT)
    return bill_run_execute(bill_run_id=run.pk, now=RUN_AT)


@pytest.mark.django_db
def test_a_run_overlapping_an_issued_invoice_holds_the_account_with_the_reason():
    """Check 23: a run for 1–2 October after October was invoiced bills no day twice; it holds the account."""
    (customer,), _ = make_accounts(make_tariff(), 1)
    start_and_execute("oct")
    october = invoice_issue(number=f"DRAFT-{Invoice.objects.get().pk}", now=RUN_AT)

    run = run_for("first-day", date(2024, 10, 1), date(2024, 10, 2))

    assert (run.status, run.invoice_count, run.held_count) == (BillRun.Status.COMPLETED, 0, 1)
    item = BillRunItem.objects.get(bill_run=run)
    assert item.outcome == BillRunItem.Outcome.HELD
    assert october.number in item.reason
    assert "2024-10-01–2024-11-01" in item.reason
    assert Invoice.objects.filter(customer=customer).count() == 1


@pytest.mark.django_db
def test_a_voided_invoice_no_longer_blocks_its_days():
    """Check 23: once the overlapping invoice is voided (credited), the days can be billed again."""
    make_accounts(make_tariff(), 1)
    start_and_execute("oct")
    issued = invoice_issue(number=f"DRAFT-{Invoice.objects.get().pk}", now=RUN_AT)
    invoice_void(number=issued.number, reason="Billed by week instead.", now=RUN_AT)

    run = run_for("week-1", date(2024, 10, 1), date(2024, 10, 8))

    assert (run.invoice_count, run.held_count) == (1, 0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_a_second_live_invoice_for_an_invoiced_day():
    """Check 23: a direct ORM insert of an overlapping live invoice raises IntegrityError (exclusion
    constraint on the account's date ranges); touching periods and voided invoices are allowed."""
    (customer,), _ = make_accounts(make_tariff(), 1, intervals=2)
    fields = {
        "customer": customer,
        "currency": "GBP",
        "net_amount": Decimal("1.00"),
        "tax_amount": Decimal("0.00"),
        "total_amount": Decimal("1.00"),
        "readings_as_of": RUN_AT,
    }
    Invoice.objects.create(period_start=date(2013, 1, 1), period_end=date(2013, 2, 1), **fields)
    Invoice.objects.create(period_start=date(2013, 2, 1), period_end=date(2013, 3, 1), **fields)
    Invoice.objects.create(
        period_start=date(2013, 1, 1), period_end=date(2013, 1, 2), status=Invoice.Status.VOID, **fields
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(period_start=date(2013, 1, 1), period_end=date(2013, 1, 2), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(period_start=date(2013, 1, 31), period_end=date(2013, 2, 2), **fields)
