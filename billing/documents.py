"""Customer-facing invoice documents: what the portal shows of a bill, its PDF and the CSV export.

Customers see issued and void invoices only (drafts are internal). The charts are drawn from the
meter readings (consumption per local day) and the import tariff (unit rate per interval) of the
agreements that overlap the invoice period; a period without readings or rates draws an empty chart.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils.safestring import SafeString, mark_safe

from billing.models import Agreement, Invoice, InvoiceLine, InvoiceTax
from metering.selectors import PeriodTooLong, reading_series
from pricing.selectors.tariffs import unit_rates


@dataclass(frozen=True)
class DailyUsage:
    day: date
    energy_kwh: Decimal


@dataclass(frozen=True)
class RatePoint:
    valid_from: datetime
    unit_rate_per_kwh: Decimal


@dataclass(frozen=True)
class InvoiceCharts:
    daily_usage: list[DailyUsage]
    unit_rates: list[RatePoint]
    timezone: str = "UTC"  # the meter point's zone, for the charts' local-time labels


def _agreements(invoice: Invoice) -> list[Agreement]:
    return list(
        Agreement.objects.filter(customer_id=invoice.customer_id)
        .select_related("meter_point", "import_tariff")
        .order_by("valid_from", "pk")
    )


def invoice_charts(*, invoice: Invoice) -> InvoiceCharts:
    """Consumption per local day and the import unit rate per interval over the invoice period."""
    usage: dict[date, Decimal] = {}
    rates: list[RatePoint] = []
    timezone = "UTC"
    for agreement in _agreements(invoice):
        timezone = agreement.meter_point.timezone
        zone = ZoneInfo(timezone)
        start = max(datetime.combine(invoice.period_start, time(), zone), agreement.valid_from)
        end = datetime.combine(invoice.period_end, time(), zone)
        if agreement.valid_to is not None:
            end = min(end, agreement.valid_to)
        if start >= end:
            continue
        try:
            buckets = reading_series(
                meter_point=agreement.meter_point, period_from=start, period_to=end, group_by="DAY"
            )
        except (PeriodTooLong, ValueError):
            buckets = []
        for bucket in buckets:
            day = bucket.interval_start.astimezone(zone).date()
            usage[day] = usage.get(day, Decimal("0")) + bucket.kwh
        try:
            priced = unit_rates(tariff_code=agreement.import_tariff.code, period_from=start, period_to=end)
        except ValidationError:  # no version, market price or published rate for part of the period
            priced = []
        rates.extend(RatePoint(rate.valid_from, rate.value_per_kwh) for rate in priced)
    return InvoiceCharts(
        daily_usage=[DailyUsage(day, kwh) for day, kwh in sorted(usage.items())],
        unit_rates=sorted(rates, key=lambda point: point.valid_from),
        timezone=timezone,
    )


# --- CSV ----------------------------------------------------------------------------------------------------

TAX_ROW_KIND = "TAX"
CSV_HEADER = [
    "account_number",
    "invoice_number",
    "period_start",
    "period_end",
    "status",
    "currency",
    "issued_at",
    "net_amount",
    "tax_amount",
    "total_amount",
    "line_kind",
    "band",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "estimated",
]


def _taxes(invoice: Invoice) -> list[InvoiceTax]:
    """The invoice's taxes by name and rate (from a prefetch when there is one)."""
    return sorted(invoice.taxes.all(), key=lambda tax: (tax.name, tax.rate))


def _tax_label(tax: InvoiceTax) -> str:
    return f"{tax.name} at {tax.rate_percent}% of {tax.base_amount}"


def _text_cell(value: str) -> str:
    """Keep spreadsheet programs from evaluating text as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _decimal_cell(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def invoices_csv(*, invoices: Iterable[Invoice]) -> str:
    """One row per invoice line, then one per tax (`line_kind` TAX: `band` is the tax's name, `quantity`
    its base in the invoice currency, `unit_price` its rate, `amount` the tax), so each invoice's rows add
    up to its total; an invoice with neither gets one row. Decimals as exact strings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    invoices = (
        invoices.select_related("customer").prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("pk")), "taxes"
        )
        if isinstance(invoices, QuerySet)
        else invoices
    )
    for invoice in invoices:
        head = [
            invoice.customer.account_number,
            invoice.number or "",
            invoice.period_start.isoformat(),
            invoice.period_end.isoformat(),
            invoice.status,
            invoice.currency,
            invoice.issued_at.isoformat() if invoice.issued_at else "",
            _decimal_cell(invoice.net_amount),
            _decimal_cell(invoice.tax_amount),
            _decimal_cell(invoice.total_amount),
        ]
        lines = list(invoice.lines.all())
        taxes = _taxes(invoice)
        if not lines and not taxes:
            writer.writerow(head + [""] * (len(CSV_HEADER) - len(head)))
        for line in lines:
            writer.writerow(
                [
                    *head,
                    line.kind,
                    _text_cell(line.band),
                    _text_cell(line.description),
                    _decimal_cell(line.quantity),
                    line.unit,
                    _decimal_cell(line.unit_price),
                    _decimal_cell(line.amount),
                    "yes" if line.estimated else "no",
                ]
            )
        for tax in taxes:
            writer.writerow(
                [
                    *head,
                    TAX_ROW_KIND,
                    _text_cell(tax.name),
                    _text_cell(_tax_label(tax)),
                    _decimal_cell(tax.base_amount),
                    invoice.currency,
                    _decimal_cell(tax.rate),
                    _decimal_cell(tax.amount),
                    "no",
                ]
            )
    return out.getvalue()


# --- Inline SVG charts for the portal -----------------------------------------------------------------------

SVG_WIDTH, SVG_HEIGHT = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 22, 28


def _empty_svg(label: str, message: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated value is escaped
        f'<svg class="chart" role="img" aria-label={quoteattr(label)} viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}"'
        f' width="100%" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="{SVG_WIDTH / 2}" y="{SVG_HEIGHT / 2}" text-anchor="middle" fill="#6b7785">'
        f"{escape(message)}</text></svg>"
    )


def _axis(label: str, top_value: float, unit: str) -> str:
    plot_h = SVG_HEIGHT - _TOP - _BOTTOM
    parts = [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="#9aa5b1"/>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{SVG_WIDTH - _RIGHT}" y2="{_TOP + plot_h}"'
        ' stroke="#9aa5b1"/>',
    ]
    for fraction in (0, 0.5, 1):
        y = _TOP + plot_h * (1 - fraction)
        parts.append(
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#52606d">'
            f"{top_value * fraction:.3g}</text>"
        )
    parts.append(
        f'<text x="4" y="11" font-size="10" fill="#52606d">{escape(unit)}</text>'
        f"<title>{escape(label)}</title>"
    )
    return "".join(parts)


def usage_bar_svg(daily_usage: list[DailyUsage]) -> SafeString:
    """Consumption per day as bars (server-rendered SVG, no script)."""
    label = "Consumption per day (kWh)"
    if not daily_usage:
        return _empty_svg(label, "No meter readings for this period.")
    top = max(float(d.energy_kwh) for d in daily_usage) or 1.0
    plot_w = SVG_WIDTH - _LEFT - _RIGHT
    plot_h = SVG_HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(daily_usage)
    bars = []
    for i, point in enumerate(daily_usage):
        height = plot_h * float(point.energy_kwh) / top
        x = _LEFT + i * step + step * 0.1
        bars.append(
            f'<rect class="bar" x="{x:.1f}" y="{_TOP + plot_h - height:.1f}" width="{step * 0.8:.1f}"'
            f' height="{height:.1f}" fill="#2f80c2"><title>{point.day.isoformat()}: '
            f"{escape(str(point.energy_kwh))} kWh</title></rect>"
        )
    first, last = daily_usage[0].day.strftime("%d %b"), daily_usage[-1].day.strftime("%d %b")
    ticks = (
        f'<text x="{_LEFT}" y="{SVG_HEIGHT - 8}" font-size="10" fill="#52606d">{first}</text>'
        f'<text x="{SVG_WIDTH - _RIGHT}" y="{SVG_HEIGHT - 8}" font-size="10" text-anchor="end"'
        f' fill="#52606d">{last}</text>'
    )
    return mark_safe(  # noqa: S308 - every interpolated value is escaped or numeric
        f'<svg class="chart" id="usage-chart" role="img" aria-label={quoteattr(label)}'
        f' viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"{_axis(label, top, 'kWh')}{''.join(bars)}{ticks}</svg>"
    )


def rate_line_svg(rates: list[RatePoint], zone: str = "UTC") -> SafeString:
    """The unit rate per interval as a step line (server-rendered SVG, no script)."""
    label = "Unit rate per interval"
    if not rates:
        return _empty_svg(label, "No unit rates for this period.")
    top = max(float(r.unit_rate_per_kwh) for r in rates)
    top = top if top > 0 else 1.0
    low = min(0.0, min(float(r.unit_rate_per_kwh) for r in rates))
    span = top - low
    plot_w = SVG_WIDTH - _LEFT - _RIGHT
    plot_h = SVG_HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(rates)
    points = []
    for i, rate in enumerate(rates):
        y = _TOP + plot_h * (1 - (float(rate.unit_rate_per_kwh) - low) / span)
        points.append(f"{_LEFT + i * step:.1f},{y:.1f} {_LEFT + (i + 1) * step:.1f},{y:.1f}")
    local = ZoneInfo(zone)
    first = rates[0].valid_from.astimezone(local).strftime("%d %b %H:%M")
    last = rates[-1].valid_from.astimezone(local).strftime("%d %b %H:%M")
    ticks = (
        f'<text x="{_LEFT}" y="{SVG_HEIGHT - 8}" font-size="10" fill="#52606d">{first}</text>'
        f'<text x="{SVG_WIDTH - _RIGHT}" y="{SVG_HEIGHT - 8}" font-size="10" text-anchor="end"'
        f' fill="#52606d">{last}</text>'
    )
    return mark_safe(  # noqa: S308 - every interpolated value is numeric or a formatted date
        f'<svg class="chart" id="rate-chart" role="img" aria-label={quoteattr(label)}'
        f' viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"{_axis(label, top, 'per kWh')}"
        f'<polyline fill="none" stroke="#d9480f" stroke-width="1.5" points="{" ".join(points)}"/>'
        f"{ticks}</svg>"
    )


# --- PDF ----------------------------------------------------------------------------------------------------


def _money(value: Decimal | None, currency: str = "") -> str:
    if value is None:
        return ""
    return f"{value:,f} {currency}".strip()  # the currency's decimals: amounts are loaded with them


def invoice_pdf(*, invoice: Invoice, charts: InvoiceCharts | None = None) -> bytes:
    """The invoice as a PDF: header, lines, totals, consumption per day and unit rate per interval."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    charts = charts if charts is not None else invoice_charts(invoice=invoice)
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    number = invoice.number or f"draft {invoice.pk}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Invoice {number}",
        subject=f"Account {invoice.customer.account_number}",
        author="Energy account",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    story: list = [
        Paragraph(f"Invoice {escape(number)}", styles["Title"]),
        Table(
            [
                ["Account", f"{invoice.customer.account_number} {invoice.customer.name}"],
                ["Invoice number", number],
                ["Period", f"{invoice.period_start:%d %b %Y} to {invoice.period_last_day:%d %b %Y}"],
                ["Status", invoice.get_status_display()],
                ["Issued", f"{invoice.issued_at:%d %b %Y}" if invoice.issued_at else ""],
            ],
            colWidths=[40 * mm, None],
            style=TableStyle([("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold")]),
            hAlign="LEFT",
        ),
        Spacer(1, 6 * mm),
    ]
    header = ["Kind", "Band", "Description", "Quantity", "Unit", "Unit price", "Amount"]
    rows = [header]
    for line in invoice.lines.order_by("pk"):
        rows.append(
            [
                line.get_kind_display(),
                line.band,
                Paragraph(escape(line.description), styles["BodyText"]),
                str(line.quantity),
                line.unit,
                "" if line.unit_price is None else str(line.unit_price),
                _money(line.amount),
            ]
        )
    taxes = [["", "", _tax_label(tax), "", "", "", _money(tax.amount)] for tax in _taxes(invoice)] or [
        ["", "", "Tax", "", "", "", _money(invoice.tax_amount)]
    ]
    rows += [
        ["", "", "Net", "", "", "", _money(invoice.net_amount)],
        *taxes,
        ["", "", "Total", "", "", "", _money(invoice.total_amount, invoice.currency)],
    ]
    story.append(
        Table(
            rows,
            colWidths=[28 * mm, 20 * mm, None, 22 * mm, 12 * mm, 22 * mm, 26 * mm],
            repeatRows=1,
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                    ("LINEABOVE", (0, -2 - len(taxes)), (-1, -2 - len(taxes)), 0.5, colors.grey),
                    ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                    ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                    ("ALIGN", (5, 0), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            ),
        )
    )
    width, height = 170 * mm, 60 * mm

    def titled(title: str) -> Drawing:
        drawing = Drawing(width, height + 8 * mm)
        drawing.add(String(0, height + 3 * mm, title, fontName="Helvetica-Bold", fontSize=10))
        return drawing

    def empty(drawing: Drawing, message: str) -> Drawing:
        drawing.add(String(width / 2, height / 2, message, textAnchor="middle", fillColor=colors.grey))
        return drawing

    usage = titled("Consumption per day (kWh)")
    if charts.daily_usage:
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 12 * mm, 8 * mm, width - 16 * mm, height - 10 * mm
        bars.data = [[float(d.energy_kwh) for d in charts.daily_usage]]  # drawing only; amounts stay Decimal
        bars.categoryAxis.categoryNames = [
            d.day.strftime("%d") if len(charts.daily_usage) > 1 else d.day.isoformat()
            for d in charts.daily_usage
        ]
        bars.categoryAxis.labels.fontSize = 6
        bars.valueAxis.valueMin = 0
        bars.valueAxis.labels.fontSize = 7
        bars.bars[0].fillColor = colors.HexColor("#2f80c2")
        usage.add(bars)
    else:
        empty(usage, "No meter readings for this period.")
    rates = titled("Unit rate per interval (per kWh)")
    if charts.unit_rates:
        origin = charts.unit_rates[0].valid_from
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 12 * mm, 8 * mm, width - 16 * mm, height - 10 * mm
        plot.data = [
            [
                ((r.valid_from - origin).total_seconds() / 86400, float(r.unit_rate_per_kwh))
                for r in charts.unit_rates
            ]
        ]
        plot.lines[0].strokeColor = colors.HexColor("#d9480f")
        plot.xValueAxis.labels.fontSize = 7
        plot.xValueAxis.labelTextFormat = "day %d"
        plot.yValueAxis.labels.fontSize = 7
        plot.yValueAxis.valueMin = min(0.0, *(float(r.unit_rate_per_kwh) for r in charts.unit_rates))
        rates.add(plot)
    else:
        empty(rates, "No unit rates for this period.")
    story += [Spacer(1, 8 * mm), usage, Spacer(1, 6 * mm), rates]
    document.build(story)
    return buffer.getvalue()


def bill_filename(invoice: Invoice, extension: str) -> str:
    safe = "".join(c for c in (invoice.number or f"draft-{invoice.pk}") if c.isalnum() or c in "-_")
    return f"invoice-{safe}.{extension}"


__all__ = [
    "DailyUsage",
    "InvoiceCharts",
    "RatePoint",
    "bill_filename",
    "invoice_charts",
    "invoice_pdf",
    "invoices_csv",
    "rate_line_svg",
    "usage_bar_svg",
]
