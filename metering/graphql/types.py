"""GraphQL types of the metering app."""
