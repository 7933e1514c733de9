"""Admin of the billing app, one module per sub-domain."""

from billing.admin import bill_runs, comparison, customers, invoices, payments, webhooks  # noqa: F401 - registering
