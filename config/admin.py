from django.contrib import admin

from config.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("application", "scopes", "created_at")
    readonly_fields = ("application", "created_at")
    search_fields = ("application__name", "application__client_id")
