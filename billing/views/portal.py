"""The customer portal: sign in, see one's own account, bills (page, PDF) and a CSV export.

A customer sees only their own issued and void invoices; anything else is a 404, never another account.
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from billing.exports import csv, pdf
from billing.exports.charts import rate_line_svg, usage_bar_svg
from billing.models import Customer, Invoice
from billing.selectors import customers as customer_selectors
from billing.selectors.bill_document import bill_document
from billing.selectors.invoices import invoice_get_with_lines, invoice_list


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True


def _customer_or_404(request: HttpRequest) -> Customer:
    customer = customer_selectors.customer_for_user(user=request.user)
    if customer is None:
        raise Http404("This login is not linked to an energy account.")
    return customer


def _invoice_or_404(request: HttpRequest, number: str) -> Invoice:
    _customer_or_404(request)
    invoice = invoice_get_with_lines(number=number, visible_to_user=request.user)
    if invoice is None:
        raise Http404("No such bill.")
    return invoice


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    customer = customer_selectors.customer_for_user(user=request.user)
    invoices = invoice_list(visible_to_user=request.user) if customer else []
    return render(request, "portal/home.html", {"customer": customer, "invoices": invoices})


@login_required
def bill_detail(request: HttpRequest, number: str) -> HttpResponse:
    invoice = _invoice_or_404(request, number)
    bill = bill_document(invoice=invoice)
    charts = bill.charts
    context = {
        "customer": invoice.customer,
        "invoice": invoice,
        "bill": bill,
        "usage_chart": usage_bar_svg(charts.daily_usage, set(bill.estimated_days)),
        "rate_chart": rate_line_svg(charts.unit_rates, charts.timezone, invoice.currency),
    }
    return render(request, "portal/bill.html", context)


@login_required
def bill_pdf(request: HttpRequest, number: str) -> HttpResponse:
    invoice = _invoice_or_404(request, number)
    response = HttpResponse(pdf.invoice_pdf(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf.bill_filename(invoice, "pdf")}"'
    return response


@login_required
def bills_csv(request: HttpRequest) -> HttpResponse:
    customer = _customer_or_404(request)
    response = HttpResponse(
        csv.invoices_csv(invoices=invoice_list(visible_to_user=request.user)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="bills-{customer.account_number}.csv"'
    return response


@login_required
def tariff_compare(request: HttpRequest) -> HttpResponse:
    """What you would have paid on our other tariffs over your last 12 whole months."""
    from django.utils import timezone

    from billing.services.comparison import own_tariff_comparison

    customer = _customer_or_404(request)
    comparison = own_tariff_comparison(customer_id=customer.pk, as_of=timezone.localdate())
    rows = [
        (
            code,
            name,
            total,
            None if total is None or comparison.current is None else comparison.current - total,
        )
        for code, name, total in comparison.tariffs
    ]
    return render(
        request, "portal/compare.html", {"customer": customer, "comparison": comparison, "rows": rows}
    )
