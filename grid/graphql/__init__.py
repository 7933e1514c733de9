"""GraphQL adapters of the grid app; nothing outside this package imports it."""
