"""Bill runs retry transient database errors with exponential back-off and jitter (issue 10 item 17;
RELIABILITY.md check 39: transient errors are retried with back-off and jitter, permanent ones are not,
and a retried job keeps its effect exactly once)."""

import time
from datetime import date

import pytest
from django.db import InterfaceError, OperationalError
from django.db.models import Count

from billing.models import BillRun, Invoice
from billing.tasks import bill_runs as billing_tasks
from billing.tasks.bill_runs import bill_run_execute_task
from tests.integration.billing.test_bill_run_worker_kill import other_connection
from tests.integration.billing.test_bill_runs import JAN_1, make_accounts, make_tariff
from tests.workers import celery_worker


@pytest.fixture
def eager_retries(monkeypatch):
    """Retries run in-process (eager mode re-applies the task); the countdown of each is recorded."""
    conf = bill_run_execute_task.app.conf
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    countdowns: list[float] = []
    real_retry = bill_run_execute_task.retry

    def spy_retry(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return real_retry(*args, **kwargs)

    monkeypatch.setattr(bill_run_execute_task, "retry", spy_retry)
    yield countdowns
    conf.task_eager_propagates = propagates


def new_run(key: str) -> BillRun:
    return BillRun.objects.create(
        idempotency_key=key, period_start=date(2024, 1, 1), period_end=date(2024, 1, 2)
    )


def failing_first(errors: list[Exception], monkeypatch) -> list[str]:
    calls: list[str] = []
    real = billing_tasks.bill_run_execute

    def flaky(**kwargs):
        if errors:
            calls.append("failed")
            raise errors.pop(0)
        calls.append("ran")
        return real(**kwargs)

    monkeypatch.setattr(billing_tasks, "bill_run_execute", flaky)
    return calls


@pytest.mark.django_db
def test_a_transient_database_error_is_retried_with_growing_jittered_back_off(
    eager_retries, monkeypatch, settings
):
    """Check 39: OperationalError and InterfaceError (a restarting database) are retried, waiting
    base × 2^n with jitter; the run then completes once."""
    settings.BILL_RUN_RETRY_BASE_SECONDS = 5
    make_accounts(make_tariff(), 3, start=JAN_1, intervals=48)
    run = new_run("transient")
    calls = failing_first(
        [OperationalError("the database system is starting up"), InterfaceError("connection already closed")],
        monkeypatch,
    )

    result = bill_run_execute_task.apply(kwargs={"bill_run_id": run.pk}).get()

    assert calls == ["failed", "failed", "ran"]
    assert 2.5 <= eager_retries[0] <= 5
    assert 5 <= eager_retries[1] <= 10
    assert (result["status"], result["invoices"]) == ("COMPLETED", 3)
    assert Invoice.objects.count() == 3


@pytest.mark.django_db
def test_a_bill_run_gives_up_after_its_last_retry_and_a_bug_is_not_retried(
    eager_retries, monkeypatch, settings
):
    settings.BILL_RUN_MAX_RETRIES = 2
    run = new_run("down")
    failing_first([OperationalError("down")] * 5, monkeypatch)

    with pytest.raises(OperationalError):
        bill_run_execute_task.apply(kwargs={"bill_run_id": run.pk}).get()
    assert len(eager_retries) == 2

    eager_retries.clear()
    failing_first([ValueError("a bug")], monkeypatch)
    with pytest.raises(ValueError, match="a bug"):
        bill_run_execute_task.apply(kwargs={"bill_run_id": run.pk}).get()
    assert eager_retries == []


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_whose_database_connection_is_cut_mid_run_retries_and_bills_each_account_once():
    """Check 39 with a real worker: the server ends the worker's session in the middle of the run (as a
    database restart does); the task reconnects after its back-off and bills every account exactly once."""
    customers, _ = make_accounts(make_tariff(), 20, start=JAN_1, intervals=48)
    run = new_run("cut")
    waiting = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        " AND query LIKE '%billing_billrunitem%' AND pid <> pg_backend_pid()"
    )

    with (
        celery_worker(BILL_RUN_RETRY_BASE_SECONDS="1") as (queue, worker),
        other_connection() as blocker,
        other_connection(autocommit=True) as observer,
    ):
        # Hold the run inside its chunk (as in test_bill_run_worker_kill) so the cut lands mid-transaction.
        blocker.execute(
            "INSERT INTO billing_billrunitem (bill_run_id, customer_id, outcome, reason)"
            " VALUES (%s, %s, 'HELD', 'test blocker')",
            [run.pk, customers[-1].pk],
        )
        result = bill_run_execute_task.apply_async(kwargs={"bill_run_id": run.pk}, queue=queue)
        first = wait_for_row(observer, waiting, "the worker to wait inside its chunk")
        observer.execute("SELECT pg_terminate_backend(%s)", [first])
        second = wait_for_row(observer, waiting, "the retry to reach the chunk again", other_than=first)
        blocker.rollback()

        answer = result.get(timeout=90)
        assert worker.poll() is None

    assert second != first  # a new connection: the retry, after the back-off
    assert (answer["status"], answer["invoices"]) == ("COMPLETED", 20)
    per_account = Invoice.objects.values("customer_id").annotate(n=Count("id"))
    assert per_account.count() == 20
    assert {row["n"] for row in per_account} == {1}


def wait_for_row(observer, query: str, what: str, other_than=None, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [pid for (pid,) in observer.execute(query).fetchall() if pid != other_than]
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
