"""tasks of the forecasting app."""
