from django.contrib import admin, messages
from django.utils import timezone

from config.api.admin import ReadOnlyAdmin
from config.models import ApiClient, ParkedTask
from config.services import parked_tasks_requeue


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("application", "scopes", "created_at")
    readonly_fields = ("application", "created_at")
    search_fields = ("application__name", "application__client_id")


@admin.register(ParkedTask)
class ParkedTaskAdmin(ReadOnlyAdmin):
    """Tasks taken off their queue after too many deliveries (their worker died on each), newest first."""

    list_display = ("parked_at", "task_name", "task_id", "queue", "deliveries", "requeued_at")
    list_filter = ("task_name", "queue", ("parked_at", admin.DateFieldListFilter))
    search_fields = ("=task_id", "task_name")
    ordering = ("-parked_at", "-id")
    actions = ["send_again"]

    @admin.action(description="Send the selected tasks again (once the cause is fixed)")
    def send_again(self, request, queryset):
        sent = parked_tasks_requeue(
            parked_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now()
        )
        self.message_user(request, f"{sent} task(s) sent again.", messages.SUCCESS)
