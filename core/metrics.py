"""Prometheus gauges read from the database at scrape time, for figures that other processes write (the MQTT
ingest, Celery workers): `/metrics` of any web process then shows them."""

import logging
from collections.abc import Callable, Iterator, Mapping

from django.db import DatabaseError
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)
_registered: set[str] = set()


class DatabaseGauge:
    """One gauge family whose samples `read()` returns as {label value: number} (one label)."""

    def __init__(self, name: str, documentation: str, label: str, read: Callable[[], Mapping[str, float]]):
        self.name, self.documentation, self.label, self.read = name, documentation, label, read

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # no database query when registering

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=[self.label])
        try:
            samples = self.read()
        except DatabaseError:  # a scrape must not fail because one table is unreachable
            logger.warning("metric %s: the database is unavailable", self.name, exc_info=True)
            samples = {}
        for value, number in sorted(samples.items()):
            family.add_metric([value], number)
        yield family


def database_gauge_register(
    name: str, documentation: str, *, label: str, read: Callable[[], Mapping[str, float]]
) -> None:
    """Register the gauge once per process (AppConfig.ready may run again in tests)."""
    if name in _registered:
        return
    REGISTRY.register(DatabaseGauge(name, documentation, label, read))
    _registered.add(name)
