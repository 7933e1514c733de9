"""Reads of the billing app."""

from billing.selectors.customers import customer_for_user, customer_get, customer_list

__all__ = ["customer_for_user", "customer_get", "customer_list"]
