"""Admin of the data issues that VEE raised; staff resolve them through the VEE service."""

from django.contrib import admin

from metering.models import DataIssue
from metering.services.vee import data_issues_resolve


@admin.register(DataIssue)
class DataIssueAdmin(admin.ModelAdmin):
    """Open data issues that VEE found: gaps (and whether they were estimated), spikes, stuck registers."""

    list_display = ("meter", "kind", "starts_at", "ends_at", "estimated", "status", "detail")
    list_filter = ("status", "kind", "estimated")
    search_fields = ("=meter__serial",)
    list_select_related = ("meter",)
    readonly_fields = ("meter", "kind", "starts_at", "ends_at", "detail", "estimated", "created_at")
    actions = ["mark_resolved"]

    @admin.action(description="Mark selected issues resolved")
    def mark_resolved(self, request, queryset):
        updated = data_issues_resolve(issue_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{updated} issues resolved.")

    def has_add_permission(self, request) -> bool:
        return False
