"""Admin of invoices and credit notes: read-only once issued; issue and void through the services."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceTax,
)
from billing.selectors.invoices import invoice_reference
from billing.services import invoices
from core.admin import ReadOnlyAdmin, error_text


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


def _changes_text(entry: LogEntry) -> str:
    """`field: old → new; …`; a missing old or new value (None, as bulk-written entries of older releases
    hold it) shows as "—" rather than failing the page as `LogEntry.changes_str` does."""
    parts = []
    for field, values in (entry.changes_dict or {}).items():
        old, new = [*values, None, None][:2] if isinstance(values, (list, tuple)) else (None, values)
        parts.append(f"{field}: {'—' if old is None else old} → {'—' if new is None else new}")
    return "; ".join(parts)


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
        "due_date",
    )
    list_filter = ("status", "period_start")
    list_select_related = ("customer",)
    search_fields = ("number", "customer__account_number", "customer__name")
    ordering = ("-period_start", "-pk")
    raw_id_fields = ("customer", "bill_run", "replaces")
    inlines = [InvoiceLineInline, InvoiceTaxInline]
    actions = ["issue_invoices", "void_invoices", "adjust_invoice"]
    show_auditlog_history_link = True
    readonly_fields = ("number", "status", "created_at", "issued_at", "due_date", "audit_trail")

    def get_readonly_fields(self, request, obj=None):
        """Every stored field is read-only, drafts included: amounts come from the rate engine (a draft is
        re-rated from its readings at issue), so a hand edit would leave totals that no line explains.
        Staff change invoices through the actions (issue, void, adjust), which go through the services."""
        return [field.name for field in self.model._meta.fields] + ["audit_trail"]

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
                _changes_text(entry),
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
        issued = 0
        for invoice in queryset.order_by("pk"):
            if invoice.status != Invoice.Status.DRAFT:
                self.message_user(request, f"{invoice} is {invoice.status}, not a draft.", messages.WARNING)
                continue
            try:
                invoices.invoice_issue(
                    number=invoice_reference(invoice),
                    now=timezone.now(),
                    actor=request.user,
                )
            except (ValidationError, ValueError) as error:
                self.message_user(request, f"{invoice}: {error_text(error)}", messages.ERROR)
            else:
                issued += 1
        if issued:
            self.message_user(request, f"Issued {issued} invoice(s).", messages.SUCCESS)

    @admin.action(description="Void the selected issued invoices (credit note)")
    def void_invoices(self, request, queryset: QuerySet[Invoice]) -> None:
        voided = 0
        for invoice in queryset.order_by("pk"):
            if invoice.status != Invoice.Status.ISSUED:
                self.message_user(request, f"{invoice} is {invoice.status}, not issued.", messages.WARNING)
                continue
            try:
                invoices.invoice_void(
                    number=invoice.number,
                    reason=f"Voided in admin by {request.user.get_username()}",
                    now=timezone.now(),
                    actor=request.user,
                )
            except (ValidationError, ValueError) as error:
                self.message_user(request, f"{invoice}: {error_text(error)}", messages.ERROR)
            else:
                voided += 1
        if voided:
            self.message_user(request, f"Voided {voided} invoice(s) with credit notes.", messages.SUCCESS)

    @admin.action(description="Credit part of the selected invoice (adjustment with a reason)")
    def adjust_invoice(self, request, queryset: QuerySet[Invoice]):
        """Open the adjustment form for the one issued invoice selected (amount and reason are asked
        there; `invoice_adjust` checks them)."""
        invoice = queryset.order_by("pk").first()
        if queryset.count() != 1 or invoice is None or invoice.status != Invoice.Status.ISSUED:
            self.message_user(request, "Select exactly one issued invoice to adjust.", messages.WARNING)
            return None
        url = reverse("admin:billing_invoiceadjustment_add")
        return HttpResponseRedirect(f"{url}?invoice={invoice.pk}")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "invoice", "total_amount", "issued_at", "reason")
    list_select_related = ("invoice",)
    search_fields = ("number", "invoice__number")
    ordering = ("-issued_at", "-pk")
