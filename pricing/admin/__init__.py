"""Admin of the pricing app, one module per sub-domain."""

from pricing.admin import ledger, markets, tariffs  # noqa: F401 - registering the admin classes
