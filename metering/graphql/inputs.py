"""GraphQL inputs of the metering app."""
