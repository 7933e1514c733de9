"""Admin of the metering app, one module per sub-domain."""

from metering.admin import aggregates, readings, telemetry, vee  # noqa: F401 - registering the admin classes
