"""admin of the forecasting app."""
