"""Backtests started through the API (thin adapter)."""

from celery import shared_task
from django.utils import timezone

from forecasting.services.backtest_runs import backtest_run_execute


@shared_task
def backtest_run_execute_task(*, pk: int) -> str:
    return backtest_run_execute(pk=pk, now=timezone.now()).status.lower()
