"""A draft whose readings changed after it was computed is re-rated at issue (issue 10 item 3;
RELIABILITY.md check 31, case a)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from billing.models import Invoice
from billing.services.bill_runs import bill_run_execute, bill_run_start
from billing.services.invoices import invoice_issue
from tests.factories.metering import NOW, half_hours, ingest
from tests.integration.billing.test_bill_runs import OCT_FROM, make_accounts, make_tariff

D = Decimal
COMPUTED_AT = NOW + timedelta(days=1)  # the readings were received at NOW


def october_drafts():
    run = bill_run_start(
        period_start=date(2024, 10, 1), period_end=date(2024, 11, 1), idempotency_key="oct", now=COMPUTED_AT
    )
    bill_run_execute(bill_run_id=run.pk, now=COMPUTED_AT)


def rerate_entries(invoice):
    return LogEntry.objects.get_for_object(invoice).filter(additional_data__has_key="rerated")


@pytest.mark.django_db
def test_a_reading_revised_after_the_draft_is_billed_as_it_is_now():
    """Check 31 (a): one half-hour revised from 0.1 to 1.1 kWh after the draft: issuing bills the new value
    (+0.25 net), with an audit entry giving the old and new totals."""
    _, (meter,) = make_accounts(make_tariff(), 1)
    october_drafts()
    draft = Invoice.objects.get()
    assert draft.total_amount == D("55.39")
    ingest(meter, half_hours(OCT_FROM, 1, "1.1000"), now=COMPUTED_AT + timedelta(hours=1))

    issued = invoice_issue(number=f"DRAFT-{draft.pk}", now=COMPUTED_AT + timedelta(hours=2))

    issued.refresh_from_db()
    assert (issued.status, issued.net_amount, issued.tax_amount, issued.total_amount) == (
        Invoice.Status.ISSUED,
        D("53.00"),
        D("2.65"),
        D("55.65"),
    )
    assert sum(line.amount for line in issued.lines.all()) == D("53.00")
    assert issued.readings_as_of == COMPUTED_AT + timedelta(hours=2)
    assert rerate_entries(issued).get().changes_dict["total_amount"] == ["55.39", "55.65"]


@pytest.mark.django_db
def test_a_draft_whose_readings_did_not_change_is_issued_as_computed():
    """Check 31 (a): no late reading, no re-rate."""
    make_accounts(make_tariff(), 1)
    october_drafts()
    draft = Invoice.objects.get()

    issued = invoice_issue(number=f"DRAFT-{draft.pk}", now=COMPUTED_AT + timedelta(hours=2))

    assert (issued.total_amount, issued.readings_as_of) == (D("55.39"), COMPUTED_AT)
    assert not rerate_entries(issued).exists()
