"""Admin of bill runs: start one (through the service), follow its progress and its held accounts."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing.models import (
    BillRun,
    BillRunItem,
)
from core.admin import error_text


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
            client=f"user:{request.user.pk}",
            enqueue=True,
        )
        # The admin goes on with `obj` (the unsaved form instance): point it at the run the service returned.
        obj.pk, obj.status, obj._state.adding = run.pk, run.status, False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except (ValidationError, ValueError) as error:
            self.message_user(request, f"Could not start the bill run: {error_text(error)}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"Bill run {obj.pk} started ({obj.status}).", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_billrun_change", args=[obj.pk]))

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing to save: the service wrote the run and its items."""

    def log_addition(self, request, obj, message):
        return None  # the service's own records are the audit trail of a run
