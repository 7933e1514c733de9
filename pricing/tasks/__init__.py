"""Celery tasks of the pricing app, one module per sub-domain
(routed to the "pricing" queue by module name)."""

from pricing.tasks import dynamic, markets  # noqa: F401 - registering the tasks
