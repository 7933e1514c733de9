from django.contrib import admin

from billing.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("account_number", "name", "email", "user", "created_at")
    search_fields = ("account_number", "name", "email")
    raw_id_fields = ("user",)
