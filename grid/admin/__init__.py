"""Admin of the grid app, one module per sub-domain."""

from grid.admin import network, storage  # noqa: F401 - registering the admin classes
