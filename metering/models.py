"""models of the metering app."""
