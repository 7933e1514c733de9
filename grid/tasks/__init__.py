"""Celery tasks of the grid app (routed to the "grid" queue by module name), one module per sub-domain."""

from grid.tasks.storage import storage_schedule_dispatch_task, storage_schedules_due_task

__all__ = ["storage_schedule_dispatch_task", "storage_schedules_due_task"]
