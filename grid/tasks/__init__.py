"""Celery tasks of the grid app (routed to the grid queue by `grid.tasks.*`)."""
