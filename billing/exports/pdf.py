"""An invoice as a PDF: what a UK supplier's bill carries (billing.selectors.bill_document), written with
the same formatting as the portal (billing.exports.formatting).

Type sizes come from one scale (TITLE, HEADING, BODY, SMALL points); chart axes are labelled in dates.
"""

import io
from datetime import timedelta
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from billing.exports import formatting as fmt
from billing.models import Invoice
from billing.selectors.bill_document import BillDocument, bill_document
from billing.selectors.invoice_charts import InvoiceCharts

TITLE, HEADING, BODY, SMALL = 16, 11, 9, 7.5


def invoice_pdf(*, invoice: Invoice, charts: InvoiceCharts | None = None) -> bytes:
    """The invoice as a PDF: supplier and customer, supply points, dates and terms, the account position,
    the charges with their rates, consumption per day (estimated days marked) and unit rate per interval."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    bill: BillDocument = bill_document(invoice=invoice)
    charts = charts if charts is not None else bill.charts
    currency = invoice.currency
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=BODY, leading=BODY * 1.3)
    small = ParagraphStyle("small", parent=body, fontSize=SMALL, leading=SMALL * 1.3, textColor=colors.grey)
    heading = ParagraphStyle(
        "heading",
        parent=body,
        fontName="Helvetica-Bold",
        fontSize=HEADING,
        leading=HEADING * 1.3,
        spaceAfter=4,
    )
    title = ParagraphStyle("title", parent=heading, fontSize=TITLE, leading=TITLE * 1.3, spaceAfter=6)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    buffer = io.BytesIO()
    number = invoice.number or f"draft {invoice.pk}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Bill {number}",
        subject=f"Account {invoice.customer.account_number}",
        author=bill.supplier.name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    customer = bill.customer
    parties = Table(
        [
            [
                [
                    p(bill.supplier.name, heading),
                    p(bill.supplier.address),
                    p(f"VAT number {bill.supplier.vat_number}"),
                ],
                [
                    p(customer.name, heading),
                    p(customer.address or ""),
                    p(f"Account {customer.account_number}"),
                ],
            ]
        ],
        colWidths=[87 * mm, 87 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]),
    )
    facts = [["Bill number", number], ["Period", fmt.period(invoice.period_start, invoice.period_end)]]
    for point in bill.supply_points:
        facts.append(["Meter point (MPAN)", point.mpan])
        facts.append(["Tariff", point.tariff_name])
    facts += [
        ["Issue date", fmt.day(bill.issue_date)],
        ["Due date", fmt.day(bill.due_date)],
        ["Payment terms", f"{bill.payment_terms_days} days from the issue date"],
    ]
    if invoice.status == Invoice.Status.VOID:
        facts.append(["Status", "Void (cancelled by a credit note)"])
    position = bill.position
    summary = [
        ["Previous balance", fmt.money(position.previous_balance, currency)],
        ["Payments received", fmt.money(position.payments_received, currency)],
    ]
    if position.other_credits:
        summary.append(["Credits and adjustments", fmt.money(position.other_credits, currency)])
    summary += [
        ["This bill", fmt.money(position.this_bill, currency)],
        [f"Balance due by {fmt.day(bill.due_date)}", fmt.money(position.balance_due, currency)],
    ]
    small_table = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
            ("FONTSIZE", (0, 0), (-1, -1), BODY),
            ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ]
    )
    story: list = [
        p(f"Your electricity bill {number}", title),
        parties,
        Spacer(1, 4 * mm),
        Table(
            [
                [
                    Table(facts, colWidths=[34 * mm, 53 * mm], style=small_table, hAlign="LEFT"),
                    Table(
                        summary,
                        colWidths=[50 * mm, 30 * mm],
                        style=TableStyle(
                            [
                                *small_table.getCommands(),
                                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                                ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
                            ]
                        ),
                        hAlign="RIGHT",
                    ),
                ]
            ],
            colWidths=[90 * mm, 84 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]),
        ),
        Spacer(1, 5 * mm),
        p("Charges", heading),
    ]
    rows: list[list] = [["Charge", "Quantity", "Rate", "Amount"]]
    band_rows: list[int] = []
    for item in bill.lines:
        line = item.line
        description = line.description + (" (estimated)" if line.estimated else "")
        rate = fmt.unit_price(item.rate, currency, line.unit)
        rows.append(
            [
                p(description),
                fmt.quantity(line.quantity, line.unit),
                f"avg {rate}" if item.average and rate else rate,
                fmt.money(line.amount, currency),
            ]
        )
        for band in item.bands:
            band_rows.append(len(rows))
            rows.append(
                [
                    p(f"    {band.band}", small),
                    fmt.quantity(band.energy_kwh, "kWh"),
                    fmt.pence_per_kwh(band.unit_rate_per_kwh, currency),
                    fmt.money(band.amount, currency),
                ]
            )
    first_total = len(rows)
    rows.append(["Charges before VAT", "", "", fmt.money(invoice.net_amount, currency)])
    for tax in bill.taxes:
        rows.append(
            [
                f"{tax.name} at {fmt.percent(tax.rate)} of {fmt.money(tax.base_amount, currency)}",
                "",
                "",
                fmt.money(tax.amount, currency),
            ]
        )
    if not bill.taxes:
        rows.append(["Tax", "", "", fmt.money(invoice.tax_amount, currency)])
    rows.append(["Total of this bill", "", "", fmt.money(invoice.total_amount, currency)])
    story.append(
        Table(
            rows,
            colWidths=[None, 30 * mm, 32 * mm, 26 * mm],
            repeatRows=1,
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
                    ("FONTSIZE", (0, 0), (-1, -1), BODY),
                    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                    ("LINEABOVE", (0, first_total), (-1, first_total), 0.5, colors.grey),
                    ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    *[("FONTSIZE", (0, r), (-1, r), SMALL) for r in band_rows],
                    *[("TEXTCOLOR", (0, r), (-1, r), colors.grey) for r in band_rows],
                ]
            ),
        )
    )
    estimated = set(bill.estimated_days)
    consumption = f"You used {fmt.quantity(bill.total_kwh, 'kWh')} in this period."
    if estimated:
        consumption += f" Readings on {len(estimated)} day(s) were estimated (hatched bars)."
    story += [Spacer(1, 5 * mm), p("Consumption", heading), p(consumption)]

    width, height = 174 * mm, 55 * mm

    def titled(text: str) -> Drawing:
        drawing = Drawing(width, height + 8 * mm)
        drawing.add(String(0, height + 3 * mm, text, fontName="Helvetica-Bold", fontSize=BODY))
        return drawing

    def empty(drawing: Drawing, message: str) -> Drawing:
        drawing.add(
            String(width / 2, height / 2, message, textAnchor="middle", fillColor=colors.grey, fontSize=BODY)
        )
        return drawing

    usage = titled("Consumption per day (kWh)")
    days = charts.daily_usage
    if days:
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 12 * mm, 8 * mm, width - 16 * mm, height - 10 * mm
        bars.data = [[float(d.energy_kwh) for d in days]]  # drawing only; amounts stay Decimal
        every = max(1, len(days) // 10)
        bars.categoryAxis.categoryNames = [
            f"{d.day.day} {d.day:%b}" if i % every == 0 else "" for i, d in enumerate(days)
        ]
        bars.categoryAxis.labels.fontSize = SMALL
        bars.valueAxis.valueMin = 0
        bars.valueAxis.labels.fontSize = SMALL
        bars.bars[0].fillColor = colors.HexColor("#2f80c2")
        for i, d in enumerate(days):
            if d.day in estimated:
                bars.bars[(0, i)].fillColor = colors.HexColor("#f5a623")
        usage.add(bars)
        if estimated:
            usage.add(
                Rect(width - 30 * mm, height + 3 * mm, 3 * mm, 3 * mm, fillColor=colors.HexColor("#f5a623"))
            )
            usage.add(
                String(width - 26 * mm, height + 3 * mm, "estimated", fontName="Helvetica", fontSize=SMALL)
            )
    else:
        empty(usage, "No meter readings for this period.")
    symbol = fmt.MINOR_UNIT_SYMBOLS.get(currency)
    scale = 100.0 if symbol else 1.0
    rates = titled(f"Unit rate per half-hour ({symbol + '/kWh' if symbol else currency + '/kWh'})")
    if charts.unit_rates:
        zone = ZoneInfo(charts.timezone)
        origin = charts.unit_rates[0].valid_from.astimezone(zone)
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 12 * mm, 8 * mm, width - 16 * mm, height - 10 * mm
        plot.data = [
            [
                ((r.valid_from - origin).total_seconds() / 86400, float(r.unit_rate_per_kwh) * scale)
                for r in charts.unit_rates
            ]
        ]
        plot.lines[0].strokeColor = colors.HexColor("#d9480f")
        plot.xValueAxis.labels.fontSize = SMALL
        plot.xValueAxis.labelTextFormat = lambda offset: (origin + timedelta(days=offset)).strftime("%-d %b")
        plot.yValueAxis.labels.fontSize = SMALL
        plot.yValueAxis.valueMin = min(0.0, *(float(r.unit_rate_per_kwh) * scale for r in charts.unit_rates))
        rates.add(plot)
    else:
        empty(rates, "No unit rates for this period.")
    story += [Spacer(1, 3 * mm), usage, Spacer(1, 4 * mm), rates]
    story += [
        Spacer(1, 4 * mm),
        p(
            f"{bill.supplier.name}, {bill.supplier.address.replace(chr(10), ', ')}. "
            f"VAT number {bill.supplier.vat_number}.",
            small,
        ),
    ]
    document.build(story)
    return buffer.getvalue()


def bill_filename(invoice: Invoice, extension: str) -> str:
    safe = "".join(c for c in (invoice.number or f"draft-{invoice.pk}") if c.isalnum() or c in "-_")
    return f"invoice-{safe}.{extension}"
