"""Admin of the markets: markets, their prices (read-only) and the revisions staff review.

Imported by `pricing.admin`."""

from django.contrib import admin, messages

from core.admin import ReadOnlyAdmin, ServiceAdmin
from pricing.models import Market, MarketPrice, MarketPriceRevision
from pricing.services import markets as services


@admin.register(Market)
class MarketAdmin(ServiceAdmin):
    """Markets are created and changed through `market_create` and `market_update`, so staff meet the API's
    rules (a market's currency, zone and interval length stay as they are once it has prices)."""

    list_display = (
        "code",
        "name",
        "currency",
        "timezone",
        "interval_minutes",
        "day_ahead_results_at",
        "feed_adapter",
    )
    search_fields = ("code", "name")
    ordering = ("code",)

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def service_save(self, *, request, obj, data, change):
        fields = {
            name: data[name]
            for name in (
                "name",
                "currency",
                "timezone",
                "interval_minutes",
                "day_ahead_results_at",
                "feed_adapter",
                "feed_config",
            )
            if name in data
        }
        if change:
            return services.market_update(code=obj.code, **fields)
        return services.market_create(code=data["code"], **fields)


@admin.register(MarketPrice)
class MarketPriceAdmin(ReadOnlyAdmin):
    list_display = ("market", "interval_start", "interval_end", "price_per_mwh", "received_at", "revised_at")
    list_filter = (
        "market",
        ("interval_start", admin.DateFieldListFilter),
        ("revised_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("market__code",)
    date_hierarchy = "interval_start"
    list_select_related = ("market",)
    ordering = ("-interval_start", "market__code")
    show_full_result_count = False


@admin.register(MarketPriceRevision)
class MarketPriceRevisionAdmin(ReadOnlyAdmin):
    list_display = (
        "market",
        "interval_start",
        "old_price_per_mwh",
        "new_price_per_mwh",
        "settled",
        "reviewed",
        "superseded_at",
    )
    list_filter = ("settled", "reviewed", "market")
    search_fields = ("market__code",)
    list_select_related = ("market",)
    ordering = ("-superseded_at", "-pk")
    actions = ("mark_reviewed",)

    def has_review_permission(self, request) -> bool:
        # The rows stay read-only; reviewing is the one change staff make, through the service.
        return request.user.has_perm("pricing.change_marketpricerevision")

    @admin.action(description="Mark the selected revisions as reviewed", permissions=["review"])
    def mark_reviewed(self, request, queryset) -> None:
        count = services.market_price_revisions_mark_reviewed(
            revision_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{count} revision(s) marked as reviewed.", messages.SUCCESS)
