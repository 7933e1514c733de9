"""Prometheus metrics of the grid app (exported by django-prometheus at /metrics)."""

from prometheus_client import Counter, Gauge

violations_found = Counter(
    "grid_violations_total", "Limit violations found by look-ahead power-flow runs", ["network", "kind"]
)
lookahead_violation_steps = Gauge(
    "grid_lookahead_violation_steps", "Steps with a violation in the latest look-ahead run", ["network"]
)
shedding_planned_mw = Gauge(
    "grid_shedding_planned_mw", "MW in the latest proposed shedding plan", ["network"]
)
