"""GraphQL filters of the metering app."""
