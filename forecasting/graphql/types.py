"""GraphQL types of the forecasting app."""
