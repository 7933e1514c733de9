"""GraphQL adapters of the forecasting app; nothing outside this package imports it."""
