"""tasks of the metering app."""
