"""Admin of dynamic price publications and the ledger (imported by pricing/admin.py).

Everything is read-only: publications, their rates and ledger entries are written by the publishing
service only. Staff can run a verification of the whole ledger from the ledger entries' list.
"""

import json

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from pricing.models import LedgerEntry, PublishedRate, RatePublication
from pricing.selectors.ledger import ledger_verify


class PublishedRateInline(admin.TabularInline):
    model = PublishedRate
    fields = ("interval_start", "interval_end", "rate_per_kwh", "breakdown_steps")
    readonly_fields = fields
    ordering = ("interval_start",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Breakdown")
    def breakdown_steps(self, rate: PublishedRate) -> str:
        steps = rate.breakdown or []
        return format_html(
            "<pre>{}</pre>",
            "\n".join(f"{s.get('rule')}: {s.get('per_kwh')}  ({s.get('note', '')})" for s in steps)
            or json.dumps(steps),
        )


def _verify(request: HttpRequest, modeladmin: admin.ModelAdmin) -> None:
    report = ledger_verify()
    if report.ok:
        modeladmin.message_user(
            request, f"Ledger intact: {report.entries_checked} entries verified.", messages.SUCCESS
        )
    else:
        broken = report.first_broken
        modeladmin.message_user(
            request,
            f"Ledger BROKEN at entry {broken.sequence}: {broken.reason} "
            f"({report.entries_checked} entries checked).",
            messages.ERROR,
        )


@admin.register(RatePublication)
class RatePublicationAdmin(ReadOnlyAdmin):
    list_display = ("tariff", "day", "revision", "published_at", "content_sha256")
    list_filter = ("day",)
    search_fields = ("tariff__code",)
    list_select_related = ("tariff",)
    ordering = ("-day", "tariff__code", "-revision", "pk")
    inlines = (PublishedRateInline,)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "publication", "created_at", "entry_sha256", "previous_sha256")
    list_select_related = ("publication__tariff",)
    ordering = ("-sequence",)
    actions = ("verify_ledger",)
    change_list_template = None

    @admin.action(description="Verify the whole ledger", permissions=["view"])
    def verify_ledger(self, request: HttpRequest, queryset) -> None:
        _verify(request, self)

    def get_urls(self):
        urls = [
            path(
                "verify/",
                self.admin_site.admin_view(self.verify_view),
                name="pricing_ledgerentry_verify",
            )
        ]
        return urls + super().get_urls()

    def verify_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """GET admin/pricing/ledgerentry/verify/: verify the ledger, back to the list with the result."""
        if not self.has_view_permission(request):
            raise PermissionError("not allowed")
        _verify(request, self)
        return HttpResponseRedirect(reverse("admin:pricing_ledgerentry_changelist"))
