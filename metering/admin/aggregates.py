"""Admin of the feeder and region load aggregates (read-only)."""

from django.contrib import admin

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from metering.models import LoadAggregate


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
