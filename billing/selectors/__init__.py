"""Reads of the billing app, one module per sub-domain: `customers`, `invoices`, `invoice_charts`."""
