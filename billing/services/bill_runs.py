"""Bill runs: invoices (DRAFT) for every account of a period, computed set-based, chunk by chunk.

A run is started once per idempotency key and executed by a Celery task (`enqueue=True` hands it to the
task by name once the run is committed). Accounts are billed in chunks; each chunk is loaded and priced by
`bill_loading` in a constant number of queries, and written by `bill_writes` in one transaction. A worker
killed mid-run therefore leaves whole accounts or nothing, and executing the run again skips the accounts
that already have an item (or a live invoice for the period). Re-billing revised invoices is `rebilling`.
"""

import logging
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from billing.models import BillRun, BillRunItem, Customer, Invoice
from billing.services import webhooks
from billing.services.bill_loading import RunContext, accounts_bill, period_window
from billing.services.bill_writes import chunk_write
from core.errors import NOT_FOUND, DomainError
from core.jobs import enqueue_on_commit

log = logging.getLogger(__name__)

CHUNK_SIZE = 500
EXECUTE_TASK = "billing.tasks.bill_runs.bill_run_execute_task"
MAX_PERIOD_DAYS = 400


class UnableToStartBillRun(DomainError, code="bill_run_invalid"): ...


class BillRunKeyReused(DomainError, code="idempotency_key_reused"): ...


class BillRunNotFound(DomainError, code=NOT_FOUND): ...


def bill_run_start(
    *,
    period_start: date,
    period_end: date,
    idempotency_key: str,
    account_numbers: list[str] | None = None,
    now: datetime,
    client: str = "",
    enqueue: bool = False,
) -> BillRun:
    """Create the run (PENDING); with `enqueue`, the execution task runs it once the transaction commits.

    Keys belong to the `client` that sends them (`app:<client id>`, `user:<id>`, `scheduler`): the same
    client with the same key gets the same run and nothing is created; with another period or other
    accounts it is refused. Another client's identical key is another run.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 128:
        raise UnableToStartBillRun("The idempotency key is 1-128 characters.", field="idempotency_key")
    if period_end <= period_start:
        raise UnableToStartBillRun("periodEnd must be after periodStart.", field="period_end")
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise UnableToStartBillRun(f"A bill run covers at most {MAX_PERIOD_DAYS} days.", field="period_end")
    accounts = sorted({a.strip() for a in account_numbers}) if account_numbers else None
    existing = BillRun.objects.filter(client=client, idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                run = BillRun.objects.create(
                    client=client,
                    idempotency_key=key,
                    period_start=period_start,
                    period_end=period_end,
                    account_numbers=accounts,
                    status=BillRun.Status.PENDING,
                )
                if enqueue:
                    enqueue_on_commit(EXECUTE_TASK, bill_run_id=run.pk)
                return run
        except IntegrityError:
            existing = BillRun.objects.filter(client=client, idempotency_key=key).first()
            if existing is None:
                raise
    if (existing.period_start, existing.period_end, existing.account_numbers) != (
        period_start,
        period_end,
        accounts,
    ):
        raise BillRunKeyReused(
            f"The idempotency key {key!r} was used for another bill run "
            f"({existing.period_start}–{existing.period_end}).",
            field="idempotency_key",
        )
    return existing


def bill_run_execute(*, bill_run_id: int, now: datetime, chunk_size: int | None = None) -> BillRun:
    """Bill the run's accounts that are not billed yet, chunk by chunk; finish COMPLETED or FAILED.

    Safe to call again (a retried task, a rerun after a crash): a completed run is returned as it is,
    otherwise accounts with an item in this run are skipped.
    """
    if chunk_size is None:
        chunk_size = getattr(settings, "BILL_RUN_CHUNK_SIZE", CHUNK_SIZE)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    run = BillRun.objects.filter(pk=bill_run_id).first()
    if run is None:
        raise BillRunNotFound(f"No bill run {bill_run_id}.", field="bill_run_id")
    if run.status == BillRun.Status.COMPLETED:
        return run
    customer_ids, done = _run_customers(run)
    BillRun.objects.filter(pk=run.pk).update(
        status=BillRun.Status.RUNNING,
        started_at=run.started_at or now,
        accounts_total=len(customer_ids) + done,
    )
    context = RunContext(run.period_start, run.period_end)
    try:
        for offset in range(0, len(customer_ids), chunk_size):
            chunk = customer_ids[offset : offset + chunk_size]
            outcomes = accounts_bill(chunk, context)
            chunk_write(run, chunk, outcomes, now=now)
    except Exception as exc:
        log.exception("bill run %s failed", run.pk)
        BillRun.objects.filter(pk=run.pk).update(
            status=BillRun.Status.FAILED,
            finished_at=now,
            errors=[*run.errors, {"error": type(exc).__name__, "message": str(exc)[:500]}],
        )
        raise
    return _finish(run, now=now)


def _run_customers(run: BillRun) -> tuple[list[int], int]:
    """Ids of the accounts with an agreement overlapping the period that this run has not billed yet,
    and how many it has billed."""
    window_from, window_to = period_window(run.period_start, run.period_end)
    customers = Customer.objects.filter(
        Q(agreements__valid_to__isnull=True) | Q(agreements__valid_to__gt=window_from),
        agreements__valid_from__lt=window_to,
    )
    if run.account_numbers:
        customers = customers.filter(account_number__in=run.account_numbers)
    done = set(BillRunItem.objects.filter(bill_run=run).values_list("customer_id", flat=True))
    pending = [pk for pk in sorted(set(customers.values_list("pk", flat=True))) if pk not in done]
    return pending, len(done)


def _finish(run: BillRun, *, now: datetime) -> BillRun:
    """Counts from the items (authoritative, whatever reruns happened); FAILED if an account failed."""
    counts = dict(
        BillRunItem.objects.filter(bill_run=run)
        .values("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    failed = counts.get(BillRunItem.Outcome.FAILED, 0)
    BillRun.objects.filter(pk=run.pk).update(
        status=BillRun.Status.FAILED if failed else BillRun.Status.COMPLETED,
        accounts_done=sum(counts.values()),
        invoice_count=Invoice.objects.filter(bill_run=run).count(),
        held_count=counts.get(BillRunItem.Outcome.HELD, 0),
        finished_at=now,
    )
    run.refresh_from_db()
    webhooks.webhook_event_record(event_type="bill_run.completed", payload=bill_run_summary(run), now=now)
    return run


def bill_run_summary(run: BillRun) -> dict:
    """The `bill_run.completed` event: the run's counts and every held (and failed) account with its
    reason."""
    items = (
        BillRunItem.objects.filter(bill_run=run)
        .exclude(outcome=BillRunItem.Outcome.INVOICED)
        .order_by("customer__account_number")
        .values_list("customer__account_number", "outcome", "reason")
    )
    held = [{"accountNumber": a, "reason": r} for a, o, r in items if o == BillRunItem.Outcome.HELD]
    failed = [{"accountNumber": a, "reason": r} for a, o, r in items if o == BillRunItem.Outcome.FAILED]
    return {
        "billRunId": run.pk,
        "idempotencyKey": run.idempotency_key,
        "periodStart": run.period_start.isoformat(),
        "periodEnd": run.period_end.isoformat(),
        "status": run.status,
        "accountsTotal": run.accounts_total,
        "invoiceCount": run.invoice_count,
        "heldCount": run.held_count,
        "held": held,
        "failed": failed,
    }


__all__ = [
    "BillRunKeyReused",
    "BillRunNotFound",
    "UnableToStartBillRun",
    "bill_run_execute",
    "bill_run_start",
]
