"""Admin of bill runs: start one (through the service), follow its progress and its held accounts."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing.models import (
    BillRun,
    BillRunItem,
)
from billing.services import bill_runs as bill_run_services
from core.admin import ReadOnlyAdmin, error_text

ITEMS_SHOWN_ON_RUN = 10
REASON_KIND_LENGTH = 40


def reason_kind(reason: str) -> str:
    """What a held reason is about, without its details: the text before the first ':' (at most 40
    characters), e.g. "No readings for 2024-01-03T00:00Z" -> "No readings for 2024-01-03T00"."""
    return reason.split(":", 1)[0][:REASON_KIND_LENGTH].strip()


class HeldReasonFilter(admin.SimpleListFilter):
    """Items by the kind of their reason (the distinct reason prefixes of the run(s) listed)."""

    title = "held reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        items = BillRunItem.objects.exclude(reason="")
        run = request.GET.get("bill_run__id__exact")
        if run and run.isdigit():
            items = items.filter(bill_run_id=int(run))
        kinds = sorted({reason_kind(r) for r in items.values_list("reason", flat=True).distinct()[:2000]})
        return [(kind, kind) for kind in kinds[:50]]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(reason__startswith=value) if value else queryset


@admin.register(BillRunItem)
class BillRunItemAdmin(ReadOnlyAdmin):
    """Every account's outcome in a bill run, paginated, filtered by run, outcome and held reason."""

    list_display = ("customer", "bill_run", "outcome", "reason")
    list_filter = ("outcome", HeldReasonFilter, "bill_run")
    search_fields = ("=customer__account_number",)
    list_select_related = ("customer", "bill_run")
    list_per_page = 50
    ordering = ("bill_run", "outcome", "customer__account_number", "pk")


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
        "items_summary",
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

    @admin.display(description="accounts")
    def items_summary(self, run: BillRun):
        """Counts per outcome, each a link to the paginated, filterable items; the first held ones."""
        url = reverse("admin:billing_billrunitem_changelist")
        counts = dict(run.items.values_list("outcome").annotate(n=Count("id")).order_by("outcome"))
        links = format_html_join(
            " · ",
            '<a href="{}?bill_run__id__exact={}&amp;outcome__exact={}">{} {}</a>',
            (
                (url, run.pk, outcome, counts.get(outcome, 0), outcome.lower())
                for outcome in BillRunItem.Outcome
            ),
        )
        held = run.items.filter(outcome=BillRunItem.Outcome.HELD).select_related("customer")
        held = held.order_by("customer__account_number", "pk")[:ITEMS_SHOWN_ON_RUN]
        rows = format_html_join("", "<li>{}: {}</li>", ((i.customer.account_number, i.reason) for i in held))
        return format_html(
            '<p>{} (<a href="{}?bill_run__id__exact={}">all items</a>)</p><ul>{}</ul>',
            links,
            url,
            run.pk,
            rows,
        )

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

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("period_start", "period_end", "accounts", "idempotency_key")})]
        return super().get_fieldsets(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        """Starting is the service's job: it creates (or finds, by idempotency key) the run."""
        data = form.cleaned_data
        key = data.get("idempotency_key") or (
            f"admin-{request.user.pk}-{data['period_start']:%Y%m%d}-{data['period_end']:%Y%m%d}-"
            f"{timezone.now():%Y%m%d%H%M%S%f}"
        )
        run = bill_run_services.bill_run_start(
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
