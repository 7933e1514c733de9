"""Partial credits (`invoiceAdjust`): an amount or per-line amounts up to what remains creditable, a reason,
a number from the credit note series; the invoice stays ISSUED and unchanged; a later void credits only the
rest. Due dates from the agreement's payment terms. Permission matrix (billing:write)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from billing.models import Agreement, CreditNote, Invoice, InvoiceAdjustment
from billing.services.invoices import (
    AdjustmentExceedsRemaining,
    AdjustmentKeyReused,
    InvoiceNotIssued,
    UnableToAdjustInvoice,
    invoice_adjust,
    invoice_issue,
    invoice_void,
)
from metering.services.meters import meter_point_create
from pricing.models import Tariff
from tests.conftest import WRITE_MATRIX, error_codes
from tests.functional.billing.test_invoice_lifecycle import draft_ref, make_invoice

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
NUMBER = "INV-00000901"  # 3 lines of 10.00, VAT 5 %: net 30.00, tax 1.50, total 31.50
ADJUST = """mutation($input: InvoiceAdjustInput!) { invoiceAdjust(input: $input) {
  ... on InvoiceAdjustment { number invoiceNumber reason netAmount taxAmount totalAmount remainingAmount }
  ... on OperationInfo { messages { code field message } } } }"""


@pytest.fixture
def issued(customer_a):
    return make_invoice(customer_a, status=Invoice.Status.ISSUED, number=NUMBER)


def adjust(**kwargs):
    values = {"number": NUMBER, "reason": "goodwill", "idempotency_key": "k1", "now": NOW}
    return invoice_adjust(**{**values, **kwargs})


def test_a_partial_credit_splits_tax_in_proportion_and_leaves_the_invoice_issued(issued):
    adjustment = adjust(amount=D("10.50"))

    issued.refresh_from_db()
    assert (adjustment.number, adjustment.reason) == ("CN-00000001", "goodwill")
    # tax = 10.50 × 1.50 / 31.50 = 0.50
    assert (adjustment.net_amount, adjustment.tax_amount, adjustment.total_amount) == (
        D("10.00"),
        D("0.50"),
        D("10.50"),
    )
    assert (issued.status, issued.total_amount) == ("ISSUED", D("31.50"))
    assert LogEntry.objects.get_for_object(adjustment).count() == 1


def test_credits_cannot_exceed_what_remains(issued):
    adjust(amount=D("30.00"), idempotency_key="k1")

    with pytest.raises(AdjustmentExceedsRemaining) as refused:
        adjust(amount=D("1.51"), idempotency_key="k2")
    last = adjust(amount=D("1.50"), idempotency_key="k3")

    assert refused.value.field == "amount"
    assert "1.50" in refused.value.messages[0]
    assert InvoiceAdjustment.objects.count() == 2
    # the last credit takes exactly the remaining net and tax: no rounding residue is left
    assert sum(a.total_amount for a in InvoiceAdjustment.objects.all()) == D("31.50")
    assert sum(a.tax_amount for a in InvoiceAdjustment.objects.all()) == D("1.50")
    assert (last.net_amount, last.tax_amount) == (D("1.43"), D("0.07"))


def test_line_credits_cannot_exceed_the_line(issued):
    first = adjust(line_amounts=[(0, D("4.00")), (2, D("10.00"))])

    with pytest.raises(AdjustmentExceedsRemaining) as refused:
        adjust(line_amounts=[(0, D("6.01"))], idempotency_key="k2")
    with pytest.raises(UnableToAdjustInvoice) as no_such_line:
        adjust(line_amounts=[(3, D("1.00"))], idempotency_key="k3")

    # net 14.00, tax at the invoice's 1.50/30.00 = 0.70
    assert (first.net_amount, first.tax_amount, first.total_amount) == (D("14.00"), D("0.70"), D("14.70"))
    assert refused.value.field == "lines[0].amount"
    assert no_such_line.value.field == "lines[3].index"
    assert adjust(line_amounts=[(0, D("6.00"))], idempotency_key="k4").total_amount == D("6.30")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": D("5.00"), "reason": " "}, "reason"),
        ({"amount": D("0")}, "amount"),
        ({"amount": D("-1.00")}, "amount"),
        ({"amount": D("1.001")}, "amount"),
        ({}, "amount"),
        ({"amount": D("1.00"), "line_amounts": [(0, D("1.00"))]}, "amount"),
        ({"amount": D("1.00"), "idempotency_key": ""}, "idempotency_key"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(issued, kwargs, field):
    with pytest.raises(UnableToAdjustInvoice) as refused:
        adjust(**kwargs)

    assert refused.value.field == field
    assert not InvoiceAdjustment.objects.exists()


def test_the_same_key_returns_the_same_adjustment_and_other_content_is_refused(issued):
    first = adjust(amount=D("5.00"))
    again = adjust(amount=D("5.00"))

    with pytest.raises(AdjustmentKeyReused) as refused:
        adjust(amount=D("6.00"))

    assert again.pk == first.pk
    assert refused.value.field == "amount"
    assert InvoiceAdjustment.objects.count() == 1


def test_a_void_after_a_partial_credit_credits_only_the_rest_and_then_nothing_is_adjustable(issued):
    adjust(amount=D("10.50"))

    credit_note = invoice_void(number=NUMBER, reason="wrong tariff", now=NOW)

    assert (credit_note.number, credit_note.total_amount) == ("CN-00000002", D("21.00"))
    assert (credit_note.net_amount, credit_note.tax_amount) == (D("20.00"), D("1.00"))
    with pytest.raises(InvoiceNotIssued):
        adjust(amount=D("1.00"), idempotency_key="k2")


def test_drafts_cannot_be_adjusted(customer_a):
    draft = make_invoice(customer_a)
    Invoice.objects.filter(pk=draft.pk).update(number="INV-DRAFTISH")

    with pytest.raises(InvoiceNotIssued):
        adjust(number="INV-DRAFTISH", amount=D("1.00"))


@pytest.mark.parametrize(
    ("terms", "due"), [(None, date(2026, 2, 17)), (30, date(2026, 3, 5)), (0, date(2026, 2, 3))]
)
def test_issue_sets_the_due_date_from_the_agreements_terms(customer_a, terms, due):
    tariff = Tariff.objects.create(code="FLAT", name="Flat", direction="IMPORT")
    Agreement.objects.create(
        customer=customer_a,
        meter_point_id=meter_point_create(identifier="MP-DUE").pk,
        import_tariff=tariff,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        payment_terms_days=terms,
    )
    draft = make_invoice(customer_a)

    invoice = invoice_issue(number=draft_ref(draft), now=NOW)

    assert invoice.due_date == due  # default terms: BILLING_PAYMENT_TERMS_DAYS = 14
    invoice.refresh_from_db()
    assert invoice.due_date == due


def test_graphql_adjust_by_amount_and_by_lines(issued, gql_as, make_token):
    gql = gql_as(make_token("billing:write"))

    by_amount = gql(
        ADJUST,
        {"input": {"number": NUMBER, "reason": "late fee waived", "idempotencyKey": "a", "amount": "10.50"}},
    )
    by_lines = gql(
        ADJUST,
        {
            "input": {
                "number": NUMBER,
                "reason": "meter fault",
                "idempotencyKey": "b",
                "lines": [{"index": 1, "amount": "2.00"}],
            }
        },
    )
    too_much = gql(
        ADJUST, {"input": {"number": NUMBER, "reason": "x", "idempotencyKey": "c", "amount": "20.00"}}
    )

    assert by_amount["data"]["invoiceAdjust"] == {
        "number": "CN-00000001",
        "invoiceNumber": NUMBER,
        "reason": "late fee waived",
        "netAmount": "10.00",
        "taxAmount": "0.50",
        "totalAmount": "10.50",
        "remainingAmount": "21.00",
    }
    assert by_lines["data"]["invoiceAdjust"]["totalAmount"] == "2.10"
    assert by_lines["data"]["invoiceAdjust"]["remainingAmount"] == "18.90"
    assert [(m["code"], m["field"]) for m in too_much["data"]["invoiceAdjust"]["messages"]] == [
        ("adjustment_exceeds_remaining", "amount")
    ]


@pytest.mark.parametrize(("role", "denied"), WRITE_MATRIX)
def test_invoice_adjust_needs_billing_write(issued, customer_b, matrix_caller, role, denied):
    gql = matrix_caller(
        role, {"other": ("metering:write",), "read": ("billing:read",), "write": ("billing:write",)}
    )

    result = gql(
        ADJUST, {"input": {"number": NUMBER, "reason": "goodwill", "idempotencyKey": "m", "amount": "1.05"}}
    )

    if denied:
        assert error_codes(result) == [denied]
        assert (result.get("data") or {}).get("invoiceAdjust") is None
        assert not InvoiceAdjustment.objects.exists()
    else:
        assert result["data"]["invoiceAdjust"]["totalAmount"] == "1.05"
        assert InvoiceAdjustment.objects.count() == 1
    assert not CreditNote.objects.exists()


AGREEMENT = """mutation($input: AgreementCreateInput!) { agreementCreate(input: $input) {
  ... on Agreement { tariffCode paymentTermsDays minimumChargePerMonth }
  ... on OperationInfo { messages { code field } } } }"""


def test_agreement_create_takes_payment_terms_and_a_minimum_charge_and_names_a_bad_one(
    customer_a, gql_as, make_token
):
    meter_point_create(identifier="MP-TERMS")
    Tariff.objects.create(code="FLAT", name="Flat", direction="IMPORT")
    gql = gql_as(make_token("billing:write"))
    base = {
        "accountNumber": "ACC-A",
        "meterPointIdentifier": "MP-TERMS",
        "tariffCode": "FLAT",
        "validFrom": "2026-01-01T00:00:00+00:00",
    }

    bad_terms = gql(AGREEMENT, {"input": {**base, "paymentTermsDays": 400}})
    bad_minimum = gql(AGREEMENT, {"input": {**base, "minimumChargePerMonth": "10.005"}})
    created = gql(AGREEMENT, {"input": {**base, "paymentTermsDays": 30, "minimumChargePerMonth": "25.00"}})

    assert bad_terms["data"]["agreementCreate"]["messages"] == [
        {"code": "agreement_invalid", "field": "paymentTermsDays"}
    ]
    assert bad_minimum["data"]["agreementCreate"]["messages"] == [
        {"code": "agreement_invalid", "field": "minimumChargePerMonth"}
    ]
    assert created["data"]["agreementCreate"] == {
        "tariffCode": "FLAT",
        "paymentTermsDays": 30,
        "minimumChargePerMonth": "25.00",
    }
    agreement = Agreement.objects.get()
    assert (agreement.payment_terms_days, agreement.minimum_charge_per_month) == (30, D("25.00"))


INVOICES = """query { invoices(first: 10, status: ISSUED) { edges { node { number remainingAmount
  adjustments { number reason totalAmount invoiceNumber } } } } }"""


def test_invoices_show_their_adjustments_and_what_remains_in_constant_queries(
    customer_a, gql_as, make_token, django_assert_max_num_queries
):
    for month in (1, 2, 3):
        make_invoice(customer_a, month=month, status=Invoice.Status.ISSUED, number=f"INV-0000090{month}")
        adjust(number=f"INV-0000090{month}", amount=D("1.05"), idempotency_key="a")
        adjust(number=f"INV-0000090{month}", amount=D(f"{month}.05"), idempotency_key="b")
    gql = gql_as(make_token("billing:read"))

    with django_assert_max_num_queries(6):
        result = gql(INVOICES)

    nodes = {e["node"]["number"]: e["node"] for e in result["data"]["invoices"]["edges"]}
    assert nodes["INV-00000902"]["remainingAmount"] == "28.40"  # 31.50 − 1.05 − 2.05
    assert [a["totalAmount"] for a in nodes["INV-00000902"]["adjustments"]] == ["1.05", "2.05"]
    assert nodes["INV-00000901"]["adjustments"][0] == {
        "number": "CN-00000001",
        "reason": "goodwill",
        "totalAmount": "1.05",
        "invoiceNumber": "INV-00000901",
    }
