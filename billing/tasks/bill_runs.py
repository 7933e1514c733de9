"""Bill-run tasks (routed by module name to the "billing" queue): adapters over the services."""

import logging
from datetime import date

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from billing.services.bill_runs import bill_run_execute, bill_run_start
from billing.services.rebilling import bill_rebill_revised
from core.retries import backoff_seconds

log = logging.getLogger(__name__)

# A database that restarts, fails over or drops the connection: the run is retried, not failed for good.
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
BILL_RUN_RETRY_CAP_SECONDS = 600.0


@shared_task(bind=True, acks_late=True)
def bill_run_execute_task(self, *, bill_run_id: int) -> dict:
    """Execute a bill run; a retry (or a redelivery after a killed worker) carries on where it stopped.

    A transient database error is retried up to BILL_RUN_MAX_RETRIES times with exponential back-off and
    jitter from BILL_RUN_RETRY_BASE_SECONDS (5 s, 10 s, 20 s … up to 10 minutes); committed chunks stay.
    """
    try:
        run = bill_run_execute(bill_run_id=bill_run_id, now=timezone.now())
    except TRANSIENT_DATABASE_ERRORS as exc:
        if not connection.in_atomic_block:  # (an eager call inside a caller's transaction keeps it)
            try:
                connection.close()  # a new connection on the retry
            except Exception:  # already broken
                log.debug("closing the broken database connection failed", exc_info=True)
        retries = self.request.retries
        if retries >= settings.BILL_RUN_MAX_RETRIES:
            log.error("bill run %s: database still failing after %d retries: %s", bill_run_id, retries, exc)
            raise
        countdown = backoff_seconds(
            retries, base=settings.BILL_RUN_RETRY_BASE_SECONDS, cap=BILL_RUN_RETRY_CAP_SECONDS
        )
        log.warning(
            "bill run %s: database error (%s); retry %d in %.0f s", bill_run_id, exc, retries + 1, countdown
        )
        queue = (self.request.delivery_info or {}).get("routing_key")  # stay on the queue it came from
        raise self.retry(
            exc=exc, countdown=countdown, max_retries=settings.BILL_RUN_MAX_RETRIES, queue=queue
        ) from exc
    return {
        "bill_run_id": run.pk,
        "status": run.status,
        "invoices": run.invoice_count,
        "held": run.held_count,
    }


@shared_task
def bill_run_monthly() -> int:
    """Start last month's bill run (key "monthly-YYYY-MM"); repeated ticks of beat return the same run."""
    now = timezone.now()
    this_month = date(now.year, now.month, 1)
    last_month = date(this_month.year - (this_month.month == 1), (this_month.month - 2) % 12 + 1, 1)
    run = bill_run_start(
        period_start=last_month,
        period_end=this_month,
        idempotency_key=f"monthly-{last_month:%Y-%m}",
        account_numbers=None,
        now=now,
        client="scheduler",
        enqueue=True,
    )
    return run.pk


@shared_task
def bill_rebill_revised_task() -> dict:
    """Credit and re-bill issued invoices whose readings were revised after they were billed."""
    report = bill_rebill_revised(now=timezone.now())
    return {"credited": len(report.credited), "replaced": len(report.replaced), "held": len(report.held)}
