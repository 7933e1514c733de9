"""Admin of customers and agreements; writes go through their services."""

from django.contrib import admin

from billing.models import (
    Agreement,
    Customer,
)
from billing.services import agreements, customers
from core.admin import ServiceAdmin


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    """Customers are created and changed through the customer services; the portal login is set by
    `customer_portal_login_set` (the demo, or a staff command), not here."""

    list_display = ("account_number", "name", "email", "user", "created_at")
    search_fields = ("account_number", "name", "email")
    fields = ("account_number", "name", "email", "address", "user")

    def get_readonly_fields(self, request, obj=None):
        return ("account_number", "user") if obj is not None else ("user",)

    def service_save(self, *, request, obj, data, change):
        details = {"name": data["name"], "email": data.get("email", ""), "address": data.get("address", "")}
        if change:
            return customers.customer_update(account_number=obj.account_number, **details)
        return customers.customer_create(account_number=data["account_number"], **details)


@admin.register(Agreement)
class AgreementAdmin(ServiceAdmin):
    """Agreements are created through `agreement_create` (its overlap and direction rules apply) and are
    not edited afterwards: a change of tariff is a new agreement."""

    list_display = ("customer", "meter_point", "import_tariff", "export_tariff", "valid_from", "valid_to")
    list_select_related = ("customer", "meter_point", "import_tariff", "export_tariff")
    search_fields = ("customer__account_number", "meter_point__identifier", "import_tariff__code")
    raw_id_fields = ("customer", "meter_point", "import_tariff", "export_tariff")
    ordering = ("-valid_from", "-pk")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def service_save(self, *, request, obj, data, change):
        return agreements.agreement_create(
            account_number=data["customer"].account_number,
            meter_point_identifier=data["meter_point"].identifier,
            tariff_code=data["import_tariff"].code,
            export_tariff_code=data["export_tariff"].code if data.get("export_tariff") else None,
            valid_from=data["valid_from"],
            valid_to=data.get("valid_to"),
            payment_terms_days=data.get("payment_terms_days"),
            minimum_charge_per_month=data.get("minimum_charge_per_month"),
        )
