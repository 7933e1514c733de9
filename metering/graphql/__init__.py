"""GraphQL adapters of the metering app; nothing outside this package imports it."""
