"""selectors of the metering app."""
