"""Customers: creation, details and their portal login."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import Customer
from core.errors import NOT_FOUND, DomainError


class UnableToCreateCustomer(DomainError, code="customer_invalid"): ...


class AccountNumberTaken(DomainError, code="account_number_taken"): ...


@transaction.atomic
def customer_create(*, account_number: str, name: str, email: str = "", address: str = "") -> Customer:
    """Create a customer; repeating the same request returns the same customer and changes nothing."""
    customer = Customer(
        account_number=account_number.strip(), name=name.strip(), email=email.strip(), address=address.strip()
    )
    try:
        customer.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise UnableToCreateCustomer(_first_message(exc), field=_first_field(exc)) from exc
    existing = Customer.objects.select_for_update().filter(account_number=customer.account_number).first()
    if existing is not None:
        if (existing.name, existing.email, existing.address) == (
            customer.name,
            customer.email,
            customer.address,
        ):
            return existing
        raise AccountNumberTaken(
            f"Account {customer.account_number} exists with other details.", field="account_number"
        )
    customer.save()
    return customer


@transaction.atomic
def customer_update(*, account_number: str, name: str, email: str = "", address: str = "") -> Customer:
    """Change a customer's name, e-mail or address (the account number never changes)."""
    customer = Customer.objects.select_for_update().filter(account_number=account_number).first()
    if customer is None:
        raise UnableToCreateCustomer(f"No customer {account_number}.", field="account_number", code=NOT_FOUND)
    customer.name, customer.email, customer.address = name.strip(), email.strip(), address.strip()
    try:
        customer.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise UnableToCreateCustomer(_first_message(exc), field=_first_field(exc)) from exc
    customer.save(update_fields=["name", "email", "address"])
    return customer


@transaction.atomic
def customer_portal_login_set(*, customer: Customer, username: str, password: str) -> None:
    """Give a customer a portal login (create or reset its password)."""
    User = get_user_model()
    user = customer.user or User.objects.filter(username=username).first() or User(username=username)
    if user.is_staff:
        raise UnableToCreateCustomer("A staff account cannot be a customer's portal login.", field="username")
    user.email = customer.email
    user.set_password(password)
    user.save()
    if customer.user_id != user.pk:
        customer.user = user
        customer.save(update_fields=["user"])


def _first_field(exc: ValidationError) -> str | None:
    return next(iter(exc.error_dict), None) if hasattr(exc, "error_dict") else None


def _first_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return next(iter(exc.error_dict.values()))[0].messages[0]
    return exc.messages[0]
