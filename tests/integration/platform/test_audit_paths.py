"""Audit coverage of bulk paths, permissions, Celery tasks, masking and append-only rows (issue 10 item 19;
RELIABILITY.md checks 43 and 44)."""

from datetime import UTC, datetime

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.db import IntegrityError, transaction

from billing.models import Customer
from billing.services.bill_runs import bill_run_start
from billing.tasks.bill_runs import bill_run_execute_task
from core import audit
from core.audit import MASK
from metering.models import MeterPoint
from tests.integration.billing.test_bill_runs import make_accounts, make_tariff

pytestmark = pytest.mark.django_db


def entries(obj):
    return LogEntry.objects.get_for_object(obj).order_by("pk")


def test_bulk_create_update_and_bulk_update_through_the_helpers_write_entries():
    """Check 43: each bulk path writes one entry per row with the before and after values."""
    [point] = audit.bulk_create_audited(MeterPoint, [MeterPoint(identifier="MP-BULK", timezone="UTC")])
    audit.update_audited(MeterPoint.objects.filter(pk=point.pk), feeder_code="F9")
    point.refresh_from_db()
    point.region_code = "R7"
    audit.bulk_update_audited(MeterPoint, [point], ["region_code"])

    created, updated, bulk_updated = entries(point)
    assert created.action == LogEntry.Action.CREATE
    assert created.changes_dict["identifier"] == [None, "MP-BULK"]
    assert updated.changes_dict == {"feeder_code": ["", "F9"]}
    assert bulk_updated.changes_dict == {"region_code": ["", "R7"]}
    assert {e.action for e in (updated, bulk_updated)} == {LogEntry.Action.UPDATE}


def test_email_and_address_are_masked_in_changes():
    """Check 43: personal data never appears in an entry, on save() or on a bulk path."""
    customer = Customer.objects.create(
        account_number="ACC-PII", name="Ada", email="ada@example.com", address="1 Analytical Row"
    )
    customer.email = "ada@example.org"
    customer.save()
    audit.update_audited(Customer.objects.filter(pk=customer.pk), address="2 Engine Street")

    text = " ".join(str(e.changes) for e in entries(customer))
    assert "example" not in text
    assert "Analytical" not in text
    assert "Engine" not in text
    assert entries(customer)[1].changes_dict["email"] == [MASK, MASK]


def test_permission_and_group_changes_are_audited():
    """Check 43: granting a permission or a group, and changing a group's permissions, are recorded."""
    user = User.objects.create_user("clerk")
    group = Group.objects.create(name="billing-staff")
    permission = Permission.objects.get(codename="change_customer")

    user.user_permissions.add(permission)
    user.groups.add(group)
    group.permissions.add(permission)

    user_changes = [e.changes for e in entries(user) if e.action == LogEntry.Action.UPDATE]
    assert any("user_permissions" in c for c in user_changes)
    assert any("groups" in c for c in user_changes)
    assert any("permissions" in e.changes for e in entries(group) if e.action == LogEntry.Action.UPDATE)


def test_entries_written_by_a_celery_task_name_the_task_and_its_id():
    """Check 44: the bill run task's invoice entries say which task (and which execution) wrote them."""
    make_accounts(make_tariff(), 1)
    run = bill_run_start(
        period_start=datetime(2024, 10, 1, tzinfo=UTC).date(),
        period_end=datetime(2024, 11, 1, tzinfo=UTC).date(),
        idempotency_key="task-actor",
        now=datetime(2024, 11, 2, tzinfo=UTC),
    )

    result = bill_run_execute_task.apply(kwargs={"bill_run_id": run.pk}, task_id="task-id-123")

    assert result.successful()
    entry = LogEntry.objects.filter(additional_data__bill_run=run.pk).get()
    assert entry.additional_data["task"] == "billing.tasks.bill_runs.bill_run_execute_task"
    assert entry.additional_data["task_id"] == "task-id-123"
    assert entry.actor_email == "task:billing.tasks.bill_runs.bill_run_execute_task[task-id-123]"
    later = Customer.objects.create(account_number="ACC-AFTER", name="After the task")
    assert "task" not in (entries(later).get().additional_data or {})


@pytest.mark.postgres
def test_audit_rows_cannot_be_changed_or_deleted_by_the_application_role():
    """Check 43: UPDATE and DELETE of audit rows fail (trigger); deleting a user only clears the actor."""
    user = User.objects.create_user("temp")
    with set_actor(user):
        customer = Customer.objects.create(account_number="ACC-LOG", name="Logged")
    entry = entries(customer).get()
    assert entry.actor == user

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes_text="forged")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    user.delete()

    kept = entries(customer).get()
    assert (kept.changes_text, kept.actor_id, kept.actor_email) == (
        entry.changes_text,
        None,
        entry.actor_email,
    )
