"""Writes and domain operations of the metering app, one module per sub-domain: `readings` (meter points,
meters and every reading ingest path), `vee` (validation-estimation-editing against each meter's history),
`aggregates` (per feeder and region load), `simulation` (the calibrated meter simulator)."""
