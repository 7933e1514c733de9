"""Account balance and statement: invoices, credit notes, adjustments and payments in order with the running
balance (hand-computed), windows half-open, drafts and other accounts left out, a constant number of
queries; GraphQL `Customer.balance/statement/payments` with the permission matrix (billing:read, customers
their own)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.models import Invoice, Payment
from billing.selectors.account_overview import account_overview
from billing.selectors.statements import account_balance, account_statement, payments_received
from billing.services.invoices import invoice_adjust, invoice_void
from tests.functional.billing.test_invoice_lifecycle import make_invoice
from tests.functional.billing.test_invoice_operations import DENIED, assert_denied, matrix

pytestmark = pytest.mark.django_db

D = Decimal


def at(month, day, hour=0):
    return datetime(2026, month, day, hour, tzinfo=UTC)


def issued(customer, *, month, number, issued_at):
    invoice = make_invoice(customer, month=month)  # total 31.50
    Invoice.objects.filter(pk=invoice.pk).update(status="ISSUED", number=number, issued_at=issued_at)
    return invoice


def pay(customer, reference, amount, received):
    return Payment.objects.create(
        customer=customer,
        amount=D(amount),
        currency="GBP",
        received_date=received,
        method="BANK_TRANSFER",
        external_reference=reference,
        created_at=at(12, 1),
    )


@pytest.fixture
def account(customer_a, customer_b):
    issued(customer_a, month=1, number="INV-00000001", issued_at=at(2, 3, 9))
    pay(customer_a, "P1", "31.50", date(2026, 2, 10))
    pay(customer_a, "P2", "5.00", date(2026, 3, 3))
    issued(customer_a, month=2, number="INV-00000002", issued_at=at(3, 3, 9))
    invoice_void(number="INV-00000001", reason="wrong tariff", now=at(3, 4, 10))  # CN-00000001
    invoice_adjust(
        number="INV-00000002", reason="goodwill", idempotency_key="g", amount=D("10.50"), now=at(3, 5, 10)
    )
    make_invoice(customer_a, month=3)  # a draft: never on a statement
    issued(customer_b, month=1, number="INV-00000003", issued_at=at(2, 3, 9))
    pay(customer_b, "P1", "7.00", date(2026, 2, 10))
    return customer_a


@pytest.mark.parametrize(
    ("now", "queries"),
    [
        (at(12, 31), 13),  # entries in the year before: the balance is the statement's last running balance
        (datetime(2028, 1, 1, tzinfo=UTC), 18),  # none in the year: the balance is asked for on its own
    ],
)
def test_the_account_page_balance_is_the_statement_balance(account, now, queries, django_assert_num_queries):
    with django_assert_num_queries(queries):
        overview = account_overview(customer=account, now=now)

    assert overview.balance == account_balance(account, at=now) == D("-15.50")
    assert [line.reference for line in overview.activity][:1] == (["CN-00000002"] if now.year == 2026 else [])


def rows(lines):
    return [(line.at, line.kind, line.reference, line.amount, line.balance, line.currency) for line in lines]


def test_the_statement_lists_every_entry_in_order_with_the_running_balance(account):
    lines = account_statement(account)

    assert rows(lines) == [
        (at(2, 3, 9), "INVOICE", "INV-00000001", D("31.50"), D("31.50"), "GBP"),
        (at(2, 10), "PAYMENT", "P1", D("-31.50"), D("0.00"), "GBP"),
        (at(3, 3), "PAYMENT", "P2", D("-5.00"), D("-5.00"), "GBP"),  # 00:00 UTC: before the 09:00 invoice
        (at(3, 3, 9), "INVOICE", "INV-00000002", D("31.50"), D("26.50"), "GBP"),
        (at(3, 4, 10), "CREDIT_NOTE", "CN-00000001", D("-31.50"), D("-5.00"), "GBP"),
        (at(3, 5, 10), "ADJUSTMENT", "CN-00000002", D("-10.50"), D("-15.50"), "GBP"),
    ]
    assert lines[0].description == "Invoice for 2026-01-01 to 2026-01-31"
    assert lines[1].description == "Payment (Bank Transfer)"
    assert lines[4].description == "Credit note voiding INV-00000001: wrong tariff"
    assert lines[5].description == "Credit on INV-00000002: goodwill"


def test_a_window_starts_from_the_balance_before_it_and_is_half_open(account):
    lines = account_statement(account, start=at(3, 3), end=at(3, 4, 10))

    assert [(line.reference, line.balance) for line in lines] == [
        ("P2", D("-5.00")),
        ("INV-00000002", D("26.50")),
    ]


def test_balance_at_an_instant_and_payments_in_a_window(account):
    assert account_balance(account, at=at(2, 3, 9)) == D(
        "0.00"
    )  # the invoice at that instant is not before it
    assert account_balance(account, at=at(3, 4)) == D("26.50")
    assert account_balance(account, at=at(12, 31)) == D("-15.50")
    assert payments_received(account, start=at(2, 1), end=at(3, 1)) == D("31.50")
    assert payments_received(account, start=at(3, 2, 12), end=at(3, 3)) == D("0.00")
    assert payments_received(account, start=at(3, 2, 12), end=at(3, 3, 1)) == D("5.00")


def test_the_statement_takes_a_constant_number_of_queries(account, django_assert_max_num_queries):
    for month in range(4, 12):
        issued(account, month=month, number=f"INV-1{month:07d}", issued_at=at(month + 1, 2))
        pay(account, f"P-{month}", "1.00", date(2026, month + 1, 3))

    with django_assert_max_num_queries(10):
        lines = account_statement(account, start=at(3, 1))

    assert len(lines) == 4 + 16


STATEMENT = """query { customer(accountNumber: "ACC-A") { currency balance(at: "2026-03-04T00:00:00+00:00")
  statement(periodFrom: "2026-03-01T00:00:00+00:00") { at kind reference description amount balance currency }
  payments(first: 5) { totalCount edges { node { externalReference amount currency receivedDate method } } }
} }"""


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "token_other_scope": ("metering:read", "metering:write"),
            "token_read": ("billing:read",),
            "token_write": ("billing:read", "billing:write"),
        },
    )


@matrix(customers="own", read_only="allowed")
def test_customer_balance_and_statement_need_billing_read_and_are_the_customers_own(
    account, caller, expected
):
    result = caller(STATEMENT)

    if expected in DENIED:
        return assert_denied(result, expected, "customer")
    if expected == "absent":  # another customer's account: not found, never a hint that it exists
        assert result["data"]["customer"] is None
        assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]
        return
    assert "errors" not in result
    customer = result["data"]["customer"]
    assert (customer["currency"], customer["balance"]) == ("GBP", "26.50")
    assert [(s["kind"], s["reference"], s["amount"], s["balance"]) for s in customer["statement"]] == [
        ("PAYMENT", "P2", "-5.00", "-5.00"),
        ("INVOICE", "INV-00000002", "31.50", "26.50"),
        ("CREDIT_NOTE", "CN-00000001", "-31.50", "-5.00"),
        ("ADJUSTMENT", "CN-00000002", "-10.50", "-15.50"),
    ]
    assert customer["statement"][0]["at"] == "2026-03-03T00:00:00+00:00"
    assert customer["payments"]["totalCount"] == 2
    assert [e["node"]["externalReference"] for e in customer["payments"]["edges"]] == ["P2", "P1"]
    assert customer["payments"]["edges"][0]["node"]["method"] == "BANK_TRANSFER"
