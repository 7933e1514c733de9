"""Admin for tariffs, their published versions (read-only, with a week's rate preview) and pricing events."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdmin, ServiceAdmin
from core.errors import DomainError
from pricing.models import PricingEvent, Tariff, TariffVersion
from pricing.selectors.tariffs import tariff_version_rates
from pricing.services import tariffs

__all__ = ["PricingEventAdmin", "TariffAdmin", "TariffVersionAdmin"]


class TariffVersionInline(admin.TabularInline):
    """Published versions, read-only: a change of price is a new version, published through the API."""

    model = TariffVersion
    extra = 0
    fields = ("valid_from", "valid_to", "kind", "document_sha256", "published_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ("valid_from", "pk")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Tariff)
class TariffAdmin(ServiceAdmin):
    list_display = ("code", "name", "direction", "created_at")
    list_filter = ("direction",)
    search_fields = ("code", "name")
    inlines = [TariffVersionInline]

    def get_readonly_fields(self, request, obj=None):
        return ("code", "direction") if obj is not None else ()

    def service_save(self, *, request, obj, data, change):
        if change:
            return tariffs.tariff_rename(code=obj.code, name=data["name"])
        return tariffs.tariff_create(code=data["code"], name=data["name"], direction=data["direction"])

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # versions, agreements and events refer to tariffs


@admin.register(TariffVersion)
class TariffVersionAdmin(ReadOnlyAdmin):
    """A published version: never changed or deleted. `?week=YYYY-MM-DD` chooses the previewed week."""

    list_display = ("tariff", "valid_from", "valid_to", "kind", "published_at")
    list_filter = ("kind",)
    search_fields = ("=tariff__code",)
    list_select_related = ("tariff",)
    ordering = ("tariff__code", "valid_from", "pk")
    fields = ("tariff", "valid_from", "valid_to", "kind", "document", "document_sha256", "published_at")

    def get_readonly_fields(self, request, obj=None):
        week = request.GET.get("week", "")

        def rate_preview(version: TariffVersion) -> str:
            return preview_html(version, week)

        rate_preview.short_description = "Rates for a week (?week=YYYY-MM-DD)"
        return (*self.fields, rate_preview)

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)


def preview_html(version: TariffVersion, week: str) -> str:
    """A table of the version's rates for the 7 local days from `week` (default: its first week), with
    consecutive half-hours of the same rate and band merged into one row."""
    zone = ZoneInfo(version.document.get("timezone", "UTC")) if isinstance(version.document, dict) else None
    if zone is None:
        return "—"
    try:
        first_day = date.fromisoformat(week) if week else version.valid_from.astimezone(zone).date()
    except ValueError:
        return format_html("<em>week must be a date YYYY-MM-DD, got {}</em>", week)
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(first_day + timedelta(days=7), time(), zone)
    try:
        rates = tariff_version_rates(version=version, period_from=start, period_to=end)
    except DomainError as exc:
        return format_html(
            "<em>Cannot preview {} – {}: {}</em>", first_day, end.date(), "; ".join(exc.messages)
        )
    runs: list[list] = []
    for rate in rates:
        if runs and runs[-1][2] == rate.value_per_kwh and runs[-1][3] == rate.band:
            runs[-1][1] = rate.valid_to
        else:
            runs.append([rate.valid_from, rate.valid_to, rate.value_per_kwh, rate.band])
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                f"{frm.astimezone(zone):%a %Y-%m-%d %H:%M}",
                f"{to.astimezone(zone):%a %Y-%m-%d %H:%M}",
                value,
                band,
            )
            for frm, to, value, band in runs
        ),
    )
    return format_html(
        "<p>Week from {} ({}).</p><table><thead><tr><th>From</th><th>To</th><th>Per kWh</th><th>Band</th>"
        "</tr></thead><tbody>{}</tbody></table>",
        first_day,
        zone.key,
        rows,
    )


@admin.register(PricingEvent)
class PricingEventAdmin(ReadOnlyAdmin):
    """Events are declared through the API (`pricingEventDeclare`), which checks that tariffs price them."""

    list_display = ("kind", "start", "end", "declared_at")
    list_filter = ("kind",)
    search_fields = ("=tariffs__code",)
    ordering = ("-start", "pk")
    filter_horizontal = ()
    fields = ("kind", "start", "end", "tariffs", "declared_at")
