"""Admin of payments and partial credits (invoice adjustments): recorded through their services, never
edited afterwards."""

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from billing.models import InvoiceAdjustment, Payment
from billing.services import invoices, payments
from core.admin import ServiceAdmin


class PaymentForm(forms.ModelForm):
    """The reference is a plain form field, so the model's uniqueness check leaves it to the service,
    which returns the same payment for the same reference and content."""

    reference = forms.CharField(max_length=100, label="External reference")

    class Meta:
        model = Payment
        fields = ("customer", "amount", "currency", "received_date", "method")


@admin.register(Payment)
class PaymentAdmin(ServiceAdmin):
    """Payments are recorded through `payment_record` (same rules as `paymentRecord`: the external
    reference makes a second entry of the same payment a no-op, other content is refused)."""

    list_display = (
        "external_reference",
        "customer",
        "amount",
        "currency",
        "received_date",
        "method",
        "recorded_by",
    )
    list_filter = ("method", "currency", ("received_date", admin.DateFieldListFilter))
    list_select_related = ("customer",)
    search_fields = ("external_reference", "customer__account_number", "customer__name")
    raw_id_fields = ("customer",)
    form = PaymentForm
    fields = ("customer", "amount", "currency", "received_date", "method", "reference")
    ordering = ("-received_date", "-pk")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def service_save(self, *, request, obj, data, change):
        return payments.payment_record(
            account_number=data["customer"].account_number,
            amount=data["amount"],
            currency=data["currency"],
            received_date=data["received_date"],
            method=data["method"],
            external_reference=data["reference"],
            now=timezone.now(),
            recorded_by=f"admin:{request.user.get_username()}",
        )


@admin.register(InvoiceAdjustment)
class InvoiceAdjustmentAdmin(ServiceAdmin):
    """A partial credit of an issued invoice through `invoice_adjust`: the amount is a total including tax
    (its tax part in proportion); it cannot exceed what remains creditable. Reached from the invoices'
    action "Credit part of the selected invoice", which fills in the invoice."""

    list_display = ("number", "invoice", "total_amount", "currency", "issued_at", "reason")
    list_select_related = ("invoice",)
    search_fields = ("number", "invoice__number", "invoice__customer__account_number")
    raw_id_fields = ("invoice",)
    fields = ("invoice", "total_amount", "reason")
    ordering = ("-issued_at", "-pk")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "invoice": request.GET.get("invoice")}

    def service_save(self, *, request, obj, data, change):
        return invoices.invoice_adjust(
            number=data["invoice"].number or "",
            reason=data["reason"],
            amount=data["total_amount"],
            # one key per form submission: the check run and the save each adjust once
            idempotency_key=f"admin-{uuid.uuid4()}",
            now=timezone.now(),
            actor=request.user,
        )
