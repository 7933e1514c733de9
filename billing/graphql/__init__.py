"""GraphQL adapters of the billing app; nothing outside this package imports it."""
