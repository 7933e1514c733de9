from django.contrib import admin

from config.api.admin import EstimatedCountPaginator, ReadOnlyAdmin
from metering.models import (
    DataIssue,
    LoadAggregate,
    Meter,
    MeterPoint,
    MqttDeadLetter,
    Reading,
    ReadingRevision,
)
from metering.services.vee import data_issues_resolve


class MeterInline(admin.TabularInline):
    model = Meter
    extra = 0
    fields = ("serial", "direction", "resolution_minutes", "installed_at", "removed_at")


@admin.register(MeterPoint)
class MeterPointAdmin(admin.ModelAdmin):
    list_display = (
        "identifier",
        "timezone",
        "feeder_code",
        "region_code",
        "heating_type",
        "residents",
        "has_pv",
    )
    list_filter = ("heating_type", "has_pv", "has_battery", "region_code")
    search_fields = ("identifier", "feeder_code")
    inlines = [MeterInline]


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ("serial", "meter_point", "direction", "resolution_minutes", "installed_at", "removed_at")
    list_filter = ("direction", "resolution_minutes")
    search_fields = ("serial", "meter_point__identifier")
    raw_id_fields = ("meter_point",)


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin):
    """Readings, read-only: filter by meter serial (search), quality, source and received date."""

    list_display = (
        "meter",
        "interval_start",
        "interval_end",
        "energy_kwh",
        "quality",
        "source",
        "received_at",
        "revised_at",
    )
    list_filter = ("quality", "source", ("interval_start", admin.DateFieldListFilter))
    search_fields = ("=meter__serial",)
    list_select_related = ("meter",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("-interval_start", "meter_id")


@admin.register(ReadingRevision)
class ReadingRevisionAdmin(ReadOnlyAdmin):
    list_display = (
        "meter",
        "interval_start",
        "energy_kwh",
        "quality",
        "source",
        "received_at",
        "superseded_at",
    )
    search_fields = ("=meter__serial",)
    list_select_related = ("meter",)
    show_full_result_count = False


@admin.register(DataIssue)
class DataIssueAdmin(admin.ModelAdmin):
    """Open data issues that VEE found: gaps (and whether they were estimated), spikes, stuck registers."""

    list_display = ("meter", "kind", "period_start", "period_end", "estimated", "status", "detail")
    list_filter = ("status", "kind", "estimated")
    search_fields = ("=meter__serial",)
    list_select_related = ("meter",)
    readonly_fields = ("meter", "kind", "period_start", "period_end", "detail", "estimated", "created_at")
    actions = ["mark_resolved"]

    @admin.action(description="Mark selected issues resolved")
    def mark_resolved(self, request, queryset):
        updated = data_issues_resolve(issue_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{updated} issues resolved.")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(LoadAggregate)
class LoadAggregateAdmin(ReadOnlyAdmin):
    list_display = (
        "level",
        "code",
        "interval_start",
        "import_kwh",
        "export_kwh",
        "reading_count",
        "estimated_count",
        "updated_at",
    )
    list_filter = ("level",)
    search_fields = ("=code",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator


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
