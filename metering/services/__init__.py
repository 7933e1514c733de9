"""Writes and domain operations of the metering app, one module per sub-domain: `meters` (meter points and
meters), `readings` (every reading ingest path), `telemetry` (the MQTT ingest's batches), `vee`
(validation-estimation-editing against each meter's history), `aggregates` (per feeder and region load),
`simulation` (the calibrated meter simulator) and `demo` (the demo's steps)."""
