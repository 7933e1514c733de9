"""An invoice as a PDF."""

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from billing.exports.taxes import tax_label, taxes_of
from billing.models import Invoice
from billing.selectors.invoice_charts import InvoiceCharts, invoice_charts


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
    taxes = [["", "", tax_label(tax), "", "", "", _money(tax.amount)] for tax in taxes_of(invoice)] or [
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
