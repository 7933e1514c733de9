from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "metering"

    def ready(self) -> None:
        from core.metrics import database_gauge_register
        from metering.selectors.telemetry import mqtt_dead_letter_counts

        database_gauge_register(
            "metering_mqtt_dead_letters",
            "MQTT messages the ingest refused as a whole (dead-letter rows), by reject code",
            label="code",
            read=mqtt_dead_letter_counts,
        )
