"""The customer portal: sign in, see one's own account, bills (page, PDF) and a CSV export.

A customer sees only their own issued and void invoices; anything else is a 404, never another account.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from billing.exports import csv, formatting, pdf
from billing.exports.charts import bars_svg, rate_line_svg, usage_bar_svg
from billing.models import Customer, Invoice
from billing.selectors import customers as customer_selectors
from billing.selectors.account_overview import account_overview, consumption, current_agreement
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


def _day_param(request: HttpRequest, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    """The account page: tariff and today's/tomorrow's rates, consumption, balance, bills, projection."""
    customer = customer_selectors.customer_for_user(user=request.user)
    if customer is None:
        return render(request, "portal/home.html", {"customer": None})
    overview = account_overview(
        customer=customer, now=timezone.now(), half_hour_day=_day_param(request, "day")
    )
    zone = ZoneInfo(overview.timezone)
    rates = overview.rates_today + overview.rates_tomorrow
    context = {
        "customer": customer,
        "overview": overview,
        "invoices": overview.invoices,
        "rate_rows": [
            (
                f"{r.valid_from.astimezone(zone):%a %-d %b %H:%M}",
                formatting.pence_per_kwh(r.unit_rate_per_kwh, overview.currency),
                band,
            )
            for r, (_, band) in zip(rates, overview.rate_bands, strict=False)
        ],
        "rates_chart": rate_line_svg(
            rates,
            overview.timezone,
            overview.currency,
            label="Unit rates today and tomorrow",
            chart_id="rates-chart",
        ),
        "daily_chart": bars_svg(
            "daily-chart",
            "Consumption per day, last 30 days (kWh)",
            [(f"{u.local_start:%-d %b %Y}", float(u.energy_kwh), u.estimated) for u in overview.daily],
            f"{overview.daily[0].local_start:%-d %b}" if overview.daily else "",
            f"{overview.daily[-1].local_start:%-d %b}" if overview.daily else "",
        ),
        "half_hour_chart": bars_svg(
            "half-hour-chart",
            f"Consumption per half-hour on {overview.half_hour_day:%-d %b %Y} (kWh)",
            [(f"{u.local_start:%H:%M}", float(u.energy_kwh), u.estimated) for u in overview.half_hourly],
            "00:00",
            "23:30",
        ),
        "previous_day": overview.half_hour_day - timedelta(days=1),
        "next_day": overview.half_hour_day + timedelta(days=1),
    }
    return render(request, "portal/home.html", context)


@login_required
def consumption_csv(request: HttpRequest) -> HttpResponse:
    """The account's consumption per half-hour (or per day with ?group=DAY) over [from, to) local dates;
    by default the last 30 days."""
    customer = _customer_or_404(request)
    agreement = current_agreement(customer, now=timezone.now())
    if agreement is None:
        raise Http404("No supply on this account.")
    zone = ZoneInfo(agreement.meter_point.timezone)
    today = timezone.now().astimezone(zone).date()
    end_day = _day_param(request, "to") or today + timedelta(days=1)
    start_day = _day_param(request, "from") or end_day - timedelta(days=30)
    start_day = max(start_day, end_day - timedelta(days=400))
    group = "DAY" if request.GET.get("group") == "DAY" else "HALF_HOUR"
    rows = consumption(
        agreement,
        start=datetime.combine(start_day, time(), zone),
        end=datetime.combine(end_day, time(), zone),
        group_by=group,
    )
    response = HttpResponse(
        csv.consumption_csv(rows=rows, mpan=agreement.meter_point.identifier),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="consumption-{customer.account_number}-{start_day}-{end_day}.csv"'
    )
    return response


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
