"""Reads of the metering app: `readings` (meter points, meters, reading series and arrays), `aggregates`
(feeder and region load), `issues` (VEE data issues)."""
