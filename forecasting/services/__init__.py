"""Services of the forecasting app: writes and domain operations, one module per sub-domain."""
