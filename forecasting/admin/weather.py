"""Admin of weather: locations and their area mappings (audited), observations and forecasts (read-only)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from forecasting.models import WeatherArea, WeatherForecast, WeatherLocation, WeatherObservation


@admin.register(WeatherLocation)
class WeatherLocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "latitude", "longitude", "zone")
    search_fields = ("code", "name")
    ordering = ("code",)


@admin.register(WeatherArea)
class WeatherAreaAdmin(admin.ModelAdmin):
    list_display = ("kind", "code", "location")
    list_filter = ("kind",)
    search_fields = ("code", "location__code")
    list_select_related = ("location",)
    ordering = ("kind", "code")


@admin.register(WeatherObservation)
class WeatherObservationAdmin(ReadOnlyAdmin):
    list_display = (
        "location",
        "interval_start",
        "temperature_c",
        "relative_humidity_pct",
        "cloud_cover_pct",
        "wind_speed_ms",
        "ghi_wm2",
        "source",
    )
    list_filter = ("location",)
    list_select_related = ("location",)
    date_hierarchy = "interval_start"
    ordering = ("-interval_start", "location__code")
    show_full_result_count = False


@admin.register(WeatherForecast)
class WeatherForecastAdmin(ReadOnlyAdmin):
    list_display = ("location", "issued_at", "interval_start", "temperature_c", "cloud_cover_pct", "ghi_wm2")
    list_filter = ("location",)
    list_select_related = ("location",)
    date_hierarchy = "interval_start"
    ordering = ("-issued_at", "interval_start", "location__code")
    show_full_result_count = False
