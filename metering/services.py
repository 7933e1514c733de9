"""services of the metering app."""
