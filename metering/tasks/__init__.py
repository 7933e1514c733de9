"""Celery tasks of the metering app, one module per sub-domain (routed to the "metering" queue by module
name; see CELERY_TASK_ROUTES). Thin adapters: read the clock, call one service, return what it reports."""

from metering.tasks import aggregates, readings, vee  # noqa: F401 - registering the tasks
