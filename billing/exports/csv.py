"""The invoices CSV export (one row per line and per tax)."""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet

from billing.exports.taxes import tax_label, taxes_of
from billing.models import Invoice, InvoiceLine

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
        taxes = taxes_of(invoice)
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
                    _text_cell(tax_label(tax)),
                    _decimal_cell(tax.base_amount),
                    invoice.currency,
                    _decimal_cell(tax.rate),
                    _decimal_cell(tax.amount),
                    "no",
                ]
            )
    return out.getvalue()


CONSUMPTION_HEADER = ["mpan", "interval_start", "interval_end", "local_start", "energy_kwh", "estimated"]


def consumption_csv(*, rows: Iterable[Any], mpan: str) -> str:
    """One row per half-hour (or day): UTC start and end, the local start, kWh (exact) and whether any
    reading in it was estimated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CONSUMPTION_HEADER)
    for row in rows:
        writer.writerow(
            [
                mpan,
                row.start.isoformat(),
                row.end.isoformat(),
                row.local_start.isoformat(),
                _decimal_cell(row.energy_kwh),
                "yes" if row.estimated else "no",
            ]
        )
    return out.getvalue()
