"""Billing admin: customers, agreements, bill runs (start one, follow it), invoices and credit notes.

Issued and void invoices are read-only here (a correction is a credit note plus a new invoice); issuing,
voiding and starting bill runs go through the billing services, imported when the action runs.
"""

from auditlog.mixins import AuditlogHistoryAdminMixin
from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing.models import (
    Agreement,
    BillRun,
    BillRunItem,
    CreditNote,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    WebhookDelivery,
)
from config.api.admin import ReadOnlyAdmin


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("account_number", "name", "email", "user", "created_at")
    search_fields = ("account_number", "name", "email")
    raw_id_fields = ("user",)


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ("customer", "meter_point", "import_tariff", "export_tariff", "valid_from", "valid_to")
    list_select_related = ("customer", "meter_point", "import_tariff", "export_tariff")
    search_fields = ("customer__account_number", "meter_point__identifier", "import_tariff__code")
    raw_id_fields = ("customer", "meter_point", "import_tariff", "export_tariff")
    ordering = ("-valid_from", "-pk")


# --- Bill runs ----------------------------------------------------------------------------------------------


class BillRunItemInline(admin.TabularInline):
    model = BillRunItem
    fields = ("customer", "outcome", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("outcome", "customer__account_number", "pk")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")


class BillRunStartForm(forms.ModelForm):
    """Start a bill run: the period (local dates, end exclusive) and optionally some accounts."""

    accounts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Account numbers separated by spaces, commas or lines; leave empty for all accounts.",
    )
    idempotency_key = forms.CharField(
        required=False,
        max_length=128,
        help_text="Starting again with the same key returns the same run; generated if empty.",
    )

    class Meta:
        model = BillRun
        fields = ("period_start", "period_end", "idempotency_key")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end <= start:
            raise ValidationError({"period_end": "The period end must be after its start."})
        raw = cleaned.get("accounts") or ""
        cleaned["account_numbers"] = [a for a in raw.replace(",", " ").split() if a] or None
        return cleaned

    def validate_unique(self) -> None:
        """A known idempotency key is not an error: the service returns that run."""


@admin.register(BillRun)
class BillRunAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "period_start",
        "period_end",
        "status",
        "progress",
        "invoice_count",
        "held_count",
        "error_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status",)
    ordering = ("-created_at", "-pk")
    inlines = [BillRunItemInline]
    readonly_fields = (
        "idempotency_key",
        "period_start",
        "period_end",
        "account_numbers",
        "status",
        "progress",
        "accounts_total",
        "accounts_done",
        "invoice_count",
        "held_count",
        "error_list",
        "created_at",
        "started_at",
        "finished_at",
    )
    exclude = ("errors",)

    @admin.display(description="progress")
    def progress(self, run: BillRun) -> str:
        return f"{run.accounts_done}/{run.accounts_total}"

    @admin.display(description="errors")
    def error_count(self, run: BillRun) -> int:
        return len(run.errors or [])

    @admin.display(description="errors")
    def error_list(self, run: BillRun):
        if not run.errors:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((e,) for e in run.errors)))

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a run is written by the billing services only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = BillRunStartForm
            kwargs["fields"] = ("period_start", "period_end", "accounts", "idempotency_key")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("period_start", "period_end", "accounts", "idempotency_key")})]
        return super().get_fieldsets(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        """Starting is the service's job: it creates (or finds, by idempotency key) the run."""
        from billing.services.bill_runs import bill_run_start

        data = form.cleaned_data
        key = data.get("idempotency_key") or (
            f"admin-{request.user.pk}-{data['period_start']:%Y%m%d}-{data['period_end']:%Y%m%d}-"
            f"{timezone.now():%Y%m%d%H%M%S%f}"
        )
        run = bill_run_start(
            period_start=data["period_start"],
            period_end=data["period_end"],
            account_numbers=data.get("account_numbers"),
            idempotency_key=key,
            now=timezone.now(),
        )
        # The admin goes on with `obj` (the unsaved form instance): point it at the run the service returned.
        obj.pk, obj.status, obj._state.adding = run.pk, run.status, False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except (ValidationError, ValueError) as error:
            self.message_user(request, f"Could not start the bill run: {_error_text(error)}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"Bill run {obj.pk} started ({obj.status}).", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_billrun_change", args=[obj.pk]))

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing to save: the service wrote the run and its items."""

    def log_addition(self, request, obj, message):
        return None  # the service's own records are the audit trail of a run


# --- Invoices -----------------------------------------------------------------------------------------------


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ("kind", "band", "description", "quantity", "unit", "unit_price", "amount", "estimated")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("pk",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class InvoiceTaxInline(InvoiceLineInline):
    model = InvoiceTax
    fields = ("name", "rate", "base_amount", "amount")
    readonly_fields = fields
    ordering = ("name", "rate")


def _is_final(invoice: Invoice | None) -> bool:
    return invoice is not None and invoice.status in (Invoice.Status.ISSUED, Invoice.Status.VOID)


@admin.register(Invoice)
class InvoiceAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "customer",
        "period_start",
        "period_end",
        "status",
        "currency",
        "total_amount",
        "issued_at",
    )
    list_filter = ("status", "period_start")
    list_select_related = ("customer",)
    search_fields = ("number", "customer__account_number", "customer__name")
    ordering = ("-period_start", "-pk")
    raw_id_fields = ("customer", "bill_run", "replaces")
    inlines = [InvoiceLineInline, InvoiceTaxInline]
    actions = ["issue_invoices", "void_invoices"]
    show_auditlog_history_link = True
    readonly_fields = ("number", "status", "created_at", "issued_at", "audit_trail")

    def has_add_permission(self, request) -> bool:
        return False  # invoices come from bill runs

    def has_change_permission(self, request, obj=None) -> bool:
        if _is_final(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is None:
            return super().has_delete_permission(request)
        return not _is_final(obj) and super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset: QuerySet[Invoice]) -> None:
        """Bulk delete only drafts: issued and void invoices are kept for ever."""
        final = queryset.filter(status__in=(Invoice.Status.ISSUED, Invoice.Status.VOID))
        if final.exists():
            self.message_user(
                request, f"Not deleted: {final.count()} issued or void invoice(s).", messages.WARNING
            )
        super().delete_queryset(request, queryset.filter(status=Invoice.Status.DRAFT))

    @admin.display(description="audit trail")
    def audit_trail(self, invoice: Invoice):
        entries = (
            LogEntry.objects.get_for_object(invoice).select_related("actor").order_by("-timestamp", "-pk")
        )
        rows = [
            (
                f"{entry.timestamp:%Y-%m-%d %H:%M:%S %Z}",
                entry.get_action_display(),
                entry.actor or "system",
                entry.changes_str or "",
            )
            for entry in entries[:50]
        ]
        if not rows:
            return "No audit entries."
        return format_html(
            "<table><tr><th>When</th><th>Action</th><th>By</th><th>Changes</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.action(description="Issue the selected draft invoices")
    def issue_invoices(self, request, queryset: QuerySet[Invoice]) -> None:
        from billing.selectors.invoices import invoice_reference
        from billing.services.invoices import invoice_issue

        issued = 0
        for invoice in queryset.order_by("pk"):
            if invoice.status != Invoice.Status.DRAFT:
                self.message_user(request, f"{invoice} is {invoice.status}, not a draft.", messages.WARNING)
                continue
            try:
                invoice_issue(
                    number=invoice_reference(invoice),
                    now=timezone.now(),
                    actor=request.user,
                )
            except (ValidationError, ValueError) as error:
                self.message_user(request, f"{invoice}: {_error_text(error)}", messages.ERROR)
            else:
                issued += 1
        if issued:
            self.message_user(request, f"Issued {issued} invoice(s).", messages.SUCCESS)

    @admin.action(description="Void the selected issued invoices (credit note)")
    def void_invoices(self, request, queryset: QuerySet[Invoice]) -> None:
        from billing.services.invoices import invoice_void

        voided = 0
        for invoice in queryset.order_by("pk"):
            if invoice.status != Invoice.Status.ISSUED:
                self.message_user(request, f"{invoice} is {invoice.status}, not issued.", messages.WARNING)
                continue
            try:
                invoice_void(
                    number=invoice.number,
                    reason=f"Voided in admin by {request.user.get_username()}",
                    now=timezone.now(),
                    actor=request.user,
                )
            except (ValidationError, ValueError) as error:
                self.message_user(request, f"{invoice}: {_error_text(error)}", messages.ERROR)
            else:
                voided += 1
        if voided:
            self.message_user(request, f"Voided {voided} invoice(s) with credit notes.", messages.SUCCESS)


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "invoice", "total_amount", "issued_at", "reason")
    list_select_related = ("invoice",)
    search_fields = ("number", "invoice__number")
    ordering = ("-issued_at", "-pk")


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
        from billing.services.webhooks import webhook_redeliver

        sent = webhook_redeliver(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{sent} failed delivery(ies) sent again.", messages.SUCCESS)
