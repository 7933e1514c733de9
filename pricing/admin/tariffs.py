"""Admin for tariffs, their published versions (read-only, with a week's rate preview) and pricing events."""

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
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

        rate_preview.short_description = "Rates for a week"
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
    document = version.document if isinstance(version.document, dict) else {}
    currency = str(document.get("currency", ""))
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>',
        (
            (
                f"{frm.astimezone(zone):%a %d %b %Y %H:%M}",
                f"{to.astimezone(zone):%a %d %b %Y %H:%M}",
                value,
                _minor_per_kwh(value, currency),
                band,
            )
            for frm, to, value, band in runs
        ),
    )
    standing = document.get("standing_charge_per_day")
    return format_html(
        '<div id="rate-preview"><p><label for="preview-week">Week from</label> '
        '<input type="date" id="preview-week" value="{}" '
        "onchange=\"location.search = 'week=' + this.value\"> "
        '<a href="?week={}">← previous week</a> · <a href="?week={}">next week →</a></p>'
        "<p>{} to {} ({} local time). Unit rates before tax, in {} per kWh{}.</p>"
        "<table><thead><tr><th>From</th><th>To</th><th>{}/kWh</th><th>{}</th><th>Band</th>"
        "</tr></thead><tbody>{}</tbody></table></div>",
        first_day.isoformat(),
        (first_day - timedelta(days=7)).isoformat(),
        (first_day + timedelta(days=7)).isoformat(),
        f"{first_day:%a %d %b %Y}",
        f"{first_day + timedelta(days=6):%a %d %b %Y}",
        zone.key,
        currency or "the tariff's currency",
        f"; standing charge {standing} {currency}/day" if standing else "",
        currency,
        MINOR_UNIT_LABELS.get(currency, "—"),
        rows,
    )


# Unit rates are also shown in the minor unit where it has a usual symbol (p/kWh for GBP).
MINOR_UNIT_LABELS = {"GBP": "p/kWh", "EUR": "c/kWh", "USD": "¢/kWh"}


def _minor_per_kwh(value: Decimal, currency: str) -> str:
    if currency not in MINOR_UNIT_LABELS:
        return ""
    return f"{(value * 100).quantize(Decimal('0.001'), ROUND_HALF_UP)}"


@admin.register(PricingEvent)
class PricingEventAdmin(ReadOnlyAdmin):
    """Events are declared through the API (`pricingEventDeclare`), which checks that tariffs price them."""

    list_display = ("kind", "start", "end", "declared_at")
    list_filter = ("kind",)
    search_fields = ("=tariffs__code",)
    ordering = ("-start", "pk")
    filter_horizontal = ()
    fields = ("kind", "start", "end", "tariffs", "declared_at")
