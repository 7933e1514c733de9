"""Admin of the forecasting app, by sub-domain."""

from forecasting.admin import series, weather  # noqa: F401 - registering the admin classes
