"""Admin of the grid app, one module per sub-domain."""

from grid.admin import storage  # noqa: F401 (registers the models)
