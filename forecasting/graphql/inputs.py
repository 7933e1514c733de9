"""GraphQL inputs of the forecasting app."""
