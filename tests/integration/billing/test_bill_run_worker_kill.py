"""A real Celery worker SIGKILLed in the middle of a bill run: every account has a complete invoice or
none, and running the job again bills the rest, once each, with the same totals."""

import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db.models import Count, Sum

from billing.models import BillRun, BillRunItem, Invoice, InvoiceLine, InvoiceTax
from billing.services.bill_runs import bill_run_execute
from billing.tasks.bill_runs import bill_run_execute_task
from tests.integration.billing.test_bill_runs import JAN_1, RUN_AT, make_accounts, make_tariff
from tests.workers import celery_worker

ACCOUNTS, CHUNK = 600, 100


def wait_for(condition, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}: {debug()}")


def debug():
    with other_connection(autocommit=True) as c:
        rows = c.execute(
            "SELECT pid, state, wait_event_type, left(query, 80) FROM pg_stat_activity"
        ).fetchall()
    return list(BillRun.objects.values_list("status", "accounts_done", "accounts_total")), rows


def other_connection(*, autocommit: bool = False) -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=autocommit
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_chunk_leaves_whole_accounts_and_a_rerun_finishes():
    customers, _ = make_accounts(make_tariff(), ACCOUNTS, start=JAN_1, intervals=48)
    # The run as `bill_run_start` writes it; the test sends the job to its own worker's queue.
    run = BillRun.objects.create(
        idempotency_key="kill", period_start=date(2024, 1, 1), period_end=date(2024, 1, 2)
    )

    with (
        celery_worker(BILL_RUN_CHUNK_SIZE=str(CHUNK)) as (queue, worker),
        other_connection() as blocker,
        other_connection(autocommit=True) as observer,
    ):
        # Hold the last chunk mid-transaction: an uncommitted item for its last account makes the chunk's
        # insert of items (after its invoices, lines, taxes and audit entries) wait on this transaction.
        blocker.execute(
            "INSERT INTO billing_billrunitem (bill_run_id, customer_id, outcome, reason)"
            " VALUES (%s, %s, 'HELD', 'test blocker')",
            [run.pk, customers[-1].pk],
        )
        bill_run_execute_task.apply_async(kwargs={"bill_run_id": run.pk}, queue=queue)
        wait_for(
            lambda: observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE '%billing_billrunitem%'"
            ).fetchone()[0],
            what="the worker to wait inside its last chunk",
        )
        worker.kill()  # SIGKILL: no clean-up, no acknowledgement
        worker.wait(timeout=20)
        blocker.rollback()  # the dead worker's session gets past the wait, finds no client: rolled back
        wait_for(
            lambda: (
                not observer.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query LIKE '%billing_invoicetax%' AND pid <> pg_backend_pid()"
                    " AND state <> 'idle'"
                ).fetchone()[0]
            ),
            what="the dead worker's session to end",
        )

    killed = BillRun.objects.get(pk=run.pk)
    assert killed.status == BillRun.Status.RUNNING
    assert killed.accounts_done == ACCOUNTS - CHUNK  # the chunks before: committed; the last: nothing
    invoiced = set(BillRunItem.objects.filter(bill_run=run).values_list("customer_id", flat=True))
    assert set(Invoice.objects.values_list("customer_id", flat=True)) == invoiced
    assert_every_invoice_complete()

    rerun = bill_run_execute(bill_run_id=run.pk, now=RUN_AT)

    assert (rerun.status, rerun.accounts_done, rerun.invoice_count) == (
        BillRun.Status.COMPLETED,
        ACCOUNTS,
        ACCOUNTS,
    )
    per_account = Invoice.objects.values("customer_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_account} == {1}
    assert per_account.count() == ACCOUNTS
    assert_every_invoice_complete()
    # 48 × 0.1 kWh × 0.25 = 1.20, one day's standing charge 0.50; VAT 5 % of 1.70 = 0.085 -> 0.09.
    assert set(Invoice.objects.values_list("net_amount", "tax_amount", "total_amount")) == {
        (Decimal("1.70"), Decimal("0.09"), Decimal("1.79"))
    }


def assert_every_invoice_complete() -> None:
    lines = dict(
        InvoiceLine.objects.values("invoice_id").annotate(s=Sum("amount")).values_list("invoice_id", "s")
    )
    taxes = dict(
        InvoiceTax.objects.values("invoice_id").annotate(s=Sum("amount")).values_list("invoice_id", "s")
    )
    for invoice_id, net, tax in Invoice.objects.values_list("id", "net_amount", "tax_amount"):
        assert (lines.get(invoice_id), taxes.get(invoice_id)) == (net, tax)
