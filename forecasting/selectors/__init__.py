"""Reads of the forecasting app, one module per sub-domain: `forecasts` (series, runs and versioned
forecasts, `forecast_frame`), `weather` (`weather_frame`), `demand` (what pricing's demand rule reads),
`sensitivity` (`temperature_sensitivity`)."""
