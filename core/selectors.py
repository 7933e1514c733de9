"""Reads of the kernel's own records (parked tasks)."""

from django.db.models import Count

from core.models import ParkedTask


def parked_task_counts() -> dict[str, int]:
    """Parked tasks not sent again, per task name (the Prometheus gauge)."""
    rows = ParkedTask.objects.filter(requeued_at__isnull=True).values_list("task_name")
    return dict(rows.annotate(n=Count("id")).order_by("task_name"))
