"""Writes of the billing app: `customers`, `agreements`, `bill_runs` (the billing engine), `invoices`
(issue, void, credit notes, numbering), `webhooks`."""

from billing.services.customers import (
    AccountNumberTaken,
    UnableToCreateCustomer,
    customer_create,
    customer_portal_login_set,
)

__all__ = ["AccountNumberTaken", "UnableToCreateCustomer", "customer_create", "customer_portal_login_set"]
