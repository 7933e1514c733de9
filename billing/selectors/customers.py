"""Reads of the billing app."""

from django.db.models import QuerySet

from billing.models import Customer


def customer_list(*, visible_to_user=None) -> QuerySet[Customer]:
    """Customers; restricted to the one linked to `visible_to_user` when a customer is asking."""
    customers = Customer.objects.all()
    if visible_to_user is not None:
        customers = customers.filter(user=visible_to_user)
    return customers.order_by("account_number")


def customer_get(*, account_number: str, visible_to_user=None) -> Customer | None:
    return customer_list(visible_to_user=visible_to_user).filter(account_number=account_number).first()


def customer_for_user(*, user) -> Customer | None:
    if user is None or not user.is_authenticated:
        return None
    return Customer.objects.filter(user=user).first()


def customer_tariff_codes(*, customer: Customer) -> list[str]:
    """The import and export tariffs of the customer's agreements, sorted."""
    codes: set[str] = set()
    for import_code, export_code in customer.agreements.values_list(
        "import_tariff__code", "export_tariff__code"
    ):
        codes.add(import_code)
        if export_code:
            codes.add(export_code)
    return sorted(codes)
