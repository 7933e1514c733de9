"""Tasks of the billing app (routed by module name to the "billing" queue): adapters over the services."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from billing.services.bill_runs import bill_rebill_revised, bill_run_execute, bill_run_start


@shared_task(acks_late=True)
def bill_run_execute_task(*, bill_run_id: int) -> dict:
    """Execute a bill run; a retry (or a redelivery after a killed worker) carries on where it stopped."""
    run = bill_run_execute(bill_run_id=bill_run_id, now=timezone.now())
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
    )
    return run.pk


@shared_task
def bill_rebill_revised_task() -> dict:
    """Credit and re-bill issued invoices whose readings were revised after they were billed."""
    report = bill_rebill_revised(now=timezone.now())
    return {"credited": len(report.credited), "replaced": len(report.replaced), "held": len(report.held)}


from billing.tasks_comparison import tariff_comparison_execute_task  # noqa: E402,F401 - registers it
from billing.tasks_webhooks import webhook_deliver  # noqa: E402,F401 - registers billing.tasks.webhook_deliver
