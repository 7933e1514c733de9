"""Celery tasks of the grid app, one module per sub-domain (routed to the "grid" queue by module name)."""

from grid.tasks import dispatch, powerflow, scenarios, storage  # noqa: F401 - registering the tasks
