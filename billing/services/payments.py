"""Recording payments received from customers (by the billing system over the API, or staff in admin).

Idempotent by external reference: one payment per customer and reference. Recording the same reference
with the same amount, currency, date and method returns the payment already recorded (nothing is written,
no event is sent again); with anything different it is refused, naming the first field that differs.
A new payment writes its audit entry (django-auditlog: Payment is registered) and a `payment.recorded`
webhook event in the same transaction.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing.currencies import quantum
from billing.models import Customer, Payment
from billing.selectors.statements import account_currency
from billing.services import webhooks
from core.errors import DomainError

MAX_AMOUNT = Decimal("1e10")
# A date a little ahead of the server's UTC day is allowed (a payment dated in a zone east of UTC).
FUTURE_DAYS_ALLOWED = 1


class UnableToRecordPayment(DomainError, code="payment_invalid"): ...


class PaymentReferenceReused(DomainError, code="payment_reference_conflict"): ...


@transaction.atomic
def payment_record(
    *,
    account_number: str,
    amount: Decimal,
    currency: str,
    received_date: date,
    method: str,
    external_reference: str,
    now: datetime,
    recorded_by: str = "",
) -> Payment:
    """Record a payment (or return the same one recorded before); see the module docstring."""
    customer = Customer.objects.filter(account_number=(account_number or "").strip()).first()
    if customer is None:
        raise UnableToRecordPayment(
            f"No customer {account_number}.", field="account_number", code="unknown_account"
        )
    reference = (external_reference or "").strip()
    if not reference or len(reference) > 100:
        raise UnableToRecordPayment("The external reference is 1-100 characters.", field="external_reference")
    currency = (currency or "").strip().upper()
    expected_currency = account_currency(customer)
    if currency != expected_currency:
        raise UnableToRecordPayment(
            f"Account {customer.account_number} is billed in {expected_currency}, "
            f"not {currency or '(none)'}.",
            field="currency",
            code="currency_mismatch",
        )
    if not amount.is_finite() or amount <= 0 or amount >= MAX_AMOUNT:
        raise UnableToRecordPayment("The amount must be more than 0.", field="amount")
    if amount != amount.quantize(quantum(currency)):
        raise UnableToRecordPayment(
            f"{currency} amounts have at most {-quantum(currency).as_tuple().exponent} decimals.",
            field="amount",
        )
    if method not in Payment.Method.values:
        raise UnableToRecordPayment(
            f"The method is one of {', '.join(Payment.Method.values)}.", field="method"
        )
    if received_date > now.date() + timedelta(days=FUTURE_DAYS_ALLOWED):
        raise UnableToRecordPayment("A payment cannot be received in the future.", field="received_date")
    wanted = {"amount": amount, "currency": currency, "received_date": received_date, "method": method}
    existing = Payment.objects.filter(customer=customer, external_reference=reference).first()
    if existing is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    customer=customer,
                    external_reference=reference,
                    recorded_by=recorded_by[:100],
                    created_at=now,
                    **wanted,
                )
        except IntegrityError:
            # A concurrent request recorded the same reference first: compare with it as with a replay.
            existing = Payment.objects.filter(customer=customer, external_reference=reference).first()
            if existing is None:
                raise
        else:
            webhooks.webhook_event_record(
                event_type="payment.recorded", payload=payment_summary(payment), now=now
            )
            return payment
    for field, value in wanted.items():
        if getattr(existing, field) != value:
            raise PaymentReferenceReused(
                f"Payment {reference} of account {customer.account_number} was recorded with "
                f"{field} {getattr(existing, field)}, not {value}.",
                field=field,
            )
    return existing


def payment_summary(payment: Payment) -> dict:
    """What a webhook says about a payment (amounts as strings, like the API)."""
    return {
        "accountNumber": payment.customer.account_number,
        "externalReference": payment.external_reference,
        "amount": str(payment.amount.quantize(quantum(payment.currency))),
        "currency": payment.currency,
        "receivedDate": payment.received_date.isoformat(),
        "method": payment.method,
    }
