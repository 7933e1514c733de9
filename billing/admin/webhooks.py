"""Admin of the signed events sent to the billing system; failed ones can be delivered again."""

from django.contrib import admin, messages

from billing.models import (
    WebhookDelivery,
)
from billing.services.webhooks import webhook_redeliver
from core.admin import ReadOnlyAdmin


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Signed events to the billing system: FAILED ones gave up (after the last retry, or at once on a 4xx
    other than 408/429) and can be delivered again once the receiver is fixed."""

    list_display = (
        "created_at",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "last_error",
        "delivered_at",
    )
    list_filter = ("status", "event_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=event_id",)
    ordering = ("-created_at", "-id")
    actions = ["deliver_again"]

    @admin.action(description="Deliver the selected failed events again")
    def deliver_again(self, request, queryset):
        sent = webhook_redeliver(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{sent} failed delivery(ies) sent again.", messages.SUCCESS)
