"""admin of the metering app."""
