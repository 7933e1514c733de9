"""Admin of customers and agreements; writes go through their services."""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from billing.exports import formatting as fmt
from billing.models import (
    Agreement,
    Customer,
)
from billing.selectors.due_dates import invoice_due_date
from billing.selectors.statements import account_balance, account_statement
from billing.services import agreements, customers
from core.admin import ServiceAdmin
from metering.selectors.readings import meter_list

SUMMARY_INVOICES = 24


def account_summary_html(customer: Customer) -> SafeString:
    """The account at a glance: balance, agreements (MPAN, tariffs), meters, invoices and payments."""
    now = timezone.now()
    agreement_rows = list(
        customer.agreements.select_related("meter_point", "import_tariff", "export_tariff").order_by(
            "-valid_from", "-pk"
        )
    )
    invoices = list(customer.invoices.order_by("-period_start", "-pk")[:SUMMARY_INVOICES])
    currency = invoices[0].currency if invoices else "GBP"
    statement = account_statement(customer, end=now)
    payments = [line for line in statement if line.kind in ("PAYMENT", "ADJUSTMENT", "CREDIT_NOTE")][-20:]
    agreement_html = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:billing_agreement_change", args=[a.pk]),
                a.meter_point.identifier,
                f"{a.import_tariff.name} ({a.import_tariff.code})",
                a.export_tariff.code if a.export_tariff else "—",
                fmt.day(a.valid_from),
                fmt.day(a.valid_to) if a.valid_to else "open",
            )
            for a in agreement_rows
        ),
    )
    meters = [
        (point.identifier, meter)
        for point in {a.meter_point.pk: a.meter_point for a in agreement_rows}.values()
        for meter in meter_list(meter_point=point)
    ]
    meter_html = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                identifier,
                meter.serial,
                meter.direction,
                fmt.day(meter.installed_at),
                fmt.day(meter.removed_at) if meter.removed_at else "in place",
            )
            for identifier, meter in meters
        ),
    )
    invoice_html = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        '<td class="num">{}</td></tr>',
        (
            (
                reverse("admin:billing_invoice_change", args=[i.pk]),
                str(i),
                fmt.period(i.period_start, i.period_end),
                i.status,
                fmt.day(i.issued_at),
                fmt.day(invoice_due_date(i)),
                fmt.money(i.total_amount, i.currency),
            )
            for i in invoices
        ),
    )
    payment_html = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                fmt.day(line.at),
                line.kind,
                line.reference,
                fmt.money(line.amount, line.currency),
                line.description,
            )
            for line in reversed(payments)
        ),
    )
    empty = format_html('<tr><td colspan="{}">none</td></tr>', 7)
    return format_html(
        '<div id="account-summary"><p><strong>Balance</strong> <span id="account-balance">{}</span>'
        " (positive: the customer owes)</p>"
        "<h3>Agreements</h3><table><thead><tr><th>MPAN</th><th>Import tariff</th><th>Export tariff</th>"
        "<th>From</th><th>To</th></tr></thead><tbody>{}</tbody></table>"
        "<h3>Meters</h3><table><thead><tr><th>MPAN</th><th>Serial</th><th>Direction</th><th>Installed</th>"
        "<th>Removed</th></tr></thead><tbody>{}</tbody></table>"
        '<h3>Invoices</h3><table id="account-invoices"><thead><tr><th>Number</th><th>Period</th>'
        "<th>Status</th><th>Issued</th><th>Due</th><th>Total</th></tr></thead><tbody>{}</tbody></table>"
        '<h3>Payments, credits and adjustments</h3><table id="account-payments"><thead><tr><th>Date</th>'
        "<th>Kind</th><th>Reference</th><th>Amount</th><th>Description</th></tr></thead><tbody>{}</tbody>"
        "</table></div>",
        fmt.money(account_balance(customer, at=now), currency),
        agreement_html or empty,
        meter_html or empty,
        invoice_html or empty,
        payment_html or empty,
    )


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    """Customers are created and changed through the customer services; the portal login is set by
    `customer_portal_login_set` (the demo, or a staff command), not here."""

    list_display = ("account_number", "name", "email", "user", "created_at")
    search_fields = ("account_number", "name", "email")
    fields = ("account_number", "name", "email", "address", "user")

    def get_readonly_fields(self, request, obj=None):
        return ("account_number", "user", "account_summary") if obj is not None else ("user",)

    def get_fields(self, request, obj=None):
        return (*self.fields, "account_summary") if obj is not None else self.fields

    @admin.display(description="Account")
    def account_summary(self, obj: Customer) -> SafeString:
        return account_summary_html(obj)

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
