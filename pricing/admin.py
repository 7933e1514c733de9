"""Admin of the pricing app, by sub-domain."""

from pricing import admin_ledger, admin_markets, admin_tariffs  # noqa: F401 - registering the admin classes
