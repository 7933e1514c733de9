"""services of the forecasting app."""
