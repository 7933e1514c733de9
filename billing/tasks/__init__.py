"""Celery tasks of the billing app, one module per sub-domain
(routed to the "billing" queue by module name)."""

from billing.tasks import bill_runs, comparison, webhooks  # noqa: F401 - registering the tasks
