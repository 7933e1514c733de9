"""Admin of meter points, meters, readings and their revisions; writes go through the meter services."""

from django.contrib import admin

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin, ServiceAdmin
from metering.models import Meter, MeterPoint, Reading, ReadingRevision
from metering.services import meters

POINT_ATTRIBUTES = (
    "timezone",
    "feeder_code",
    "region_code",
    "heating_type",
    "residents",
    "has_pv",
    "has_battery",
    "max_power_kw",
)


class MeterInline(admin.TabularInline):
    """The meter point's meters, read-only here: install one (or set its removal) under Meters."""

    model = Meter
    extra = 0
    fields = readonly_fields = ("serial", "direction", "resolution_minutes", "installed_at", "removed_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MeterPoint)
class MeterPointAdmin(ServiceAdmin):
    """Meter points are created by `meter_point_create` and changed by `meter_point_update`."""

    fields = ("identifier", *POINT_ATTRIBUTES)
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

    def get_readonly_fields(self, request, obj=None):
        return ("identifier",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # meters, agreements and readings refer to meter points

    def service_save(self, *, request, obj, data, change):
        attributes = {name: data[name] for name in POINT_ATTRIBUTES}
        if change:
            return meters.meter_point_update(identifier=obj.identifier, **attributes)
        return meters.meter_point_create(identifier=data["identifier"], **attributes)


@admin.register(Meter)
class MeterAdmin(ServiceAdmin):
    """Meters are installed by `meter_install`; afterwards only their installation period changes
    (`meter_period_set`): the meter point, direction and resolution say what the stored readings mean."""

    list_display = ("serial", "meter_point", "direction", "resolution_minutes", "installed_at", "removed_at")
    list_filter = ("direction", "resolution_minutes")
    search_fields = ("serial", "meter_point__identifier")
    raw_id_fields = ("meter_point",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("meter_point", "serial", "direction", "resolution_minutes", "installed_at")
        return ("meter_point", "serial", "direction", "resolution_minutes", "installed_at", "removed_at")

    def get_readonly_fields(self, request, obj=None):
        return ("meter_point", "serial", "direction", "resolution_minutes") if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # readings refer to meters

    def service_save(self, *, request, obj, data, change):
        if change:
            return meters.meter_period_set(
                serial=obj.serial, installed_at=data["installed_at"], removed_at=data.get("removed_at")
            )
        return meters.meter_install(
            meter_point_identifier=data["meter_point"].identifier,
            serial=data["serial"],
            direction=data["direction"],
            installed_at=data["installed_at"],
            resolution_minutes=data["resolution_minutes"],
        )


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
