"""GraphQL filters of the forecasting app."""
