"""GraphQL adapters of the pricing app; nothing outside this package imports it."""
