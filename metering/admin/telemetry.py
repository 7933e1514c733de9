"""Admin of the MQTT messages the ingest refused as a whole (dead letters, read-only)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from metering.models import MqttDeadLetter


@admin.register(MqttDeadLetter)
class MqttDeadLetterAdmin(ReadOnlyAdmin):
    """MQTT messages the ingest refused as a whole (malformed, oversized, forged serial), newest first."""

    list_display = ("received_at", "code", "serial", "topic", "payload_bytes", "reason")
    list_filter = ("code", ("received_at", admin.DateFieldListFilter))
    search_fields = ("=serial", "topic")
    ordering = ("-received_at", "-id")
    fields = readonly_fields = (
        "received_at",
        "topic",
        "serial",
        "code",
        "reason",
        "payload_bytes",
        "payload_sha256",
        "payload_text",
    )

    @admin.display(description="payload (as text)")
    def payload_text(self, obj: MqttDeadLetter) -> str:
        return bytes(obj.payload)[:2000].decode(errors="replace")
