"""selectors of the forecasting app."""
