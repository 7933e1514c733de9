"""Reads of the kernel's own records (API clients, parked tasks)."""

from django.db.models import Count

from core.models import ApiClient, ParkedTask


def parked_task_counts() -> dict[str, int]:
    """Parked tasks not sent again, per task name (the Prometheus gauge)."""
    rows = ParkedTask.objects.filter(requeued_at__isnull=True).values_list("task_name")
    return dict(rows.annotate(n=Count("id")).order_by("task_name"))


def api_client_count() -> int:
    """How many API clients exist (the worker's readiness answer shows it)."""
    return ApiClient.objects.count()
