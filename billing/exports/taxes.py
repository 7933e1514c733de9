"""How an invoice's taxes are listed on its documents."""

from billing.models import Invoice, InvoiceTax


def taxes_of(invoice: Invoice) -> list[InvoiceTax]:
    """The invoice's taxes by name and rate (from a prefetch when there is one)."""
    return sorted(invoice.taxes.all(), key=lambda tax: (tax.name, tax.rate))


def tax_label(tax: InvoiceTax) -> str:
    return f"{tax.name} at {tax.rate_percent}% of {tax.base_amount}"
