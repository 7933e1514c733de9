"""Open spike and stuck-value issues hold the account instead of billing suspect values (issue 10 item 4;
RELIABILITY.md check 32)."""

from datetime import UTC, datetime

import pytest

from billing.models import BillRunItem, Invoice
from metering.models import DataIssue
from tests.integration.billing.test_bill_runs import make_accounts, make_tariff, start_and_execute

OCT_10 = datetime(2024, 10, 10, 12, 0, tzinfo=UTC)


def issue(meter, kind, start=OCT_10, *, status=DataIssue.Status.OPEN):
    return DataIssue.objects.create(
        meter=meter,
        kind=kind,
        starts_at=start,
        ends_at=start.replace(hour=start.hour + 2),
        detail="14.2 kWh, 30× the median",
        status=status,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [DataIssue.Kind.SPIKE, DataIssue.Kind.STUCK])
def test_an_open_spike_or_stuck_issue_in_the_period_holds_the_account_with_the_reason(kind):
    """Check 32: the flagged readings are not billed as they are; the hold names the meter and the issue."""
    (held, billed), meters = make_accounts(make_tariff(), 2)
    issue(meters[0], kind)

    run = start_and_execute()

    assert (run.invoice_count, run.held_count) == (1, 1)
    item = BillRunItem.objects.get(customer=held)
    assert item.outcome == BillRunItem.Outcome.HELD
    assert f"meter {meters[0].serial} has an open {DataIssue.Kind(kind).label.lower()} issue" in item.reason
    assert "2024-10-10T12:00Z" in item.reason
    assert list(Invoice.objects.values_list("customer_id", flat=True)) == [billed.pk]


@pytest.mark.django_db
def test_resolved_issues_and_issues_outside_the_period_do_not_hold():
    """Check 32: a resolved spike, and an open one in November, leave October billable."""
    (customer,), (meter,) = make_accounts(make_tariff(), 1)
    issue(meter, DataIssue.Kind.SPIKE, status=DataIssue.Status.RESOLVED)
    issue(meter, DataIssue.Kind.STUCK, datetime(2024, 11, 1, 0, 0, tzinfo=UTC))

    run = start_and_execute()

    assert (run.invoice_count, run.held_count) == (1, 0)
    assert Invoice.objects.get().customer == customer
