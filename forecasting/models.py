"""models of the forecasting app."""
