"""Admin of meter points, meters, readings and their revisions."""

from django.contrib import admin

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from metering.models import Meter, MeterPoint, Reading, ReadingRevision


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
