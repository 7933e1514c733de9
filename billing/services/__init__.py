"""Writes of the billing app, one module per sub-domain: `customers`, `agreements`, `bill_runs` (the billing
engine), `invoices` (issue, void, credit notes, numbering), `webhooks`."""
