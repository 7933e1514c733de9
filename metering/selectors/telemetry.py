"""Reads of the MQTT telemetry records (dead letters)."""

from django.db.models import Count

from metering.models import MqttDeadLetter


def mqtt_dead_letter_counts() -> dict[str, int]:
    """Dead-letter rows per reject code (the Prometheus gauge)."""
    return dict(MqttDeadLetter.objects.values_list("code").annotate(n=Count("id")).order_by("code"))
