"""`paymentRecord`: idempotent by external reference (the same payment twice is one row; the same reference
with other content is refused naming the field), bad input names its field and writes nothing, and the
permission matrix (billing:write)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from billing.models import Payment
from billing.services.payments import PaymentReferenceReused, UnableToRecordPayment, payment_record
from tests.conftest import WRITE_MATRIX, error_codes

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RECORD = """mutation($input: PaymentRecordInput!) { paymentRecord(input: $input) {
  ... on Payment { externalReference accountNumber amount currency receivedDate method createdAt }
  ... on OperationInfo { messages { code field message } } } }"""
INPUT = {
    "accountNumber": "ACC-A",
    "amount": "45.10",
    "currency": "GBP",
    "receivedDate": "2026-03-09",
    "method": "DIRECT_DEBIT",
    "externalReference": "DD-2026-03-0001",
}


def record(**overrides):
    values = {
        "account_number": "ACC-A",
        "amount": Decimal("45.10"),
        "currency": "GBP",
        "received_date": date(2026, 3, 9),
        "method": "DIRECT_DEBIT",
        "external_reference": "DD-2026-03-0001",
        "now": NOW,
    }
    return payment_record(**{**values, **overrides})


def test_the_same_reference_twice_is_one_payment(customer_a):
    first = record()
    again = record(now=datetime(2026, 3, 11, tzinfo=UTC))

    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.received_date, payment.method) == (
        Decimal("45.10"),
        "GBP",
        date(2026, 3, 9),
        "DIRECT_DEBIT",
    )
    assert LogEntry.objects.get_for_object(payment).count() == 1  # audited once, not on the replay


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": Decimal("45.11")}, "amount"),
        ({"received_date": date(2026, 3, 8)}, "received_date"),
        ({"method": "CARD"}, "method"),
    ],
)
def test_the_same_reference_with_other_content_is_refused_naming_the_field(customer_a, overrides, field):
    record()

    with pytest.raises(PaymentReferenceReused) as refused:
        record(**overrides)

    assert refused.value.field == field
    assert refused.value.code == "payment_reference_conflict"
    assert Payment.objects.count() == 1


def test_another_customer_may_use_the_same_reference(customer_a, customer_b):
    record()
    record(account_number="ACC-B")

    assert Payment.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"amount": Decimal("0")}, "amount", "payment_invalid"),
        ({"amount": Decimal("-5.00")}, "amount", "payment_invalid"),
        ({"amount": Decimal("1.005")}, "amount", "payment_invalid"),
        ({"amount": Decimal("NaN")}, "amount", "payment_invalid"),
        ({"currency": "EUR"}, "currency", "currency_mismatch"),
        ({"account_number": "NOPE"}, "account_number", "unknown_account"),
        ({"external_reference": "  "}, "external_reference", "payment_invalid"),
        ({"method": "CHEQUE"}, "method", "payment_invalid"),
        ({"received_date": date(2026, 3, 20)}, "received_date", "payment_invalid"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(customer_a, overrides, field, code):
    with pytest.raises(UnableToRecordPayment) as refused:
        record(**overrides)

    assert (refused.value.field, refused.value.code) == (field, code)
    assert not Payment.objects.exists()


def test_graphql_replay_returns_the_same_payment_and_a_conflict_names_the_field(
    customer_a, gql_as, make_token
):
    gql = gql_as(make_token("billing:write"))

    first = gql(RECORD, {"input": INPUT})
    again = gql(RECORD, {"input": INPUT})
    conflict = gql(RECORD, {"input": {**INPUT, "amount": "45.00"}})
    bad = gql(RECORD, {"input": {**INPUT, "externalReference": "X-2", "amount": "-1"}})

    assert first["data"]["paymentRecord"]["amount"] == "45.10"
    assert first["data"]["paymentRecord"]["method"] == "DIRECT_DEBIT"
    assert again["data"] == first["data"]
    assert conflict["data"]["paymentRecord"]["messages"][0]["code"] == "payment_reference_conflict"
    assert conflict["data"]["paymentRecord"]["messages"][0]["field"] == "amount"
    assert [(m["code"], m["field"]) for m in bad["data"]["paymentRecord"]["messages"]] == [
        ("payment_invalid", "amount")
    ]
    assert Payment.objects.count() == 1
    assert Payment.objects.get().recorded_by.startswith("app:")


@pytest.mark.parametrize(("role", "denied"), WRITE_MATRIX)
def test_payment_record_needs_billing_write(customer_a, customer_b, matrix_caller, role, denied):
    gql = matrix_caller(
        role,
        {"other": ("metering:write",), "read": ("billing:read",), "write": ("billing:write",)},
    )

    result = gql(RECORD, {"input": INPUT})

    if denied:
        assert error_codes(result) == [denied]
        assert (result.get("data") or {}).get("paymentRecord") is None
        assert not Payment.objects.exists()
    else:
        assert result["data"]["paymentRecord"]["externalReference"] == "DD-2026-03-0001"
        assert Payment.objects.count() == 1
