"""Invoice lifecycle: a draft is issued with the next gap-free number, an issued invoice is voided only by a
credit note, and nothing else changes an issued invoice (services, GraphQL, and on PostgreSQL the
database itself)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, InternalError, transaction

from billing.models import CreditNote, Customer, Invoice, InvoiceLine, InvoiceNumberSeries, InvoiceTax
from billing.services.customers import customer_create
from billing.services.invoices import (
    InvoiceNotFound,
    InvoiceNotIssued,
    UnableToVoidInvoice,
    invoice_issue,
    invoice_void,
)
from config.schema import schema
from tests.conftest import error_codes

NOW = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
D0 = Decimal("0.00")

pytestmark = pytest.mark.django_db


def make_invoice(
    customer: Customer,
    *,
    month: int = 1,
    year: int = 2026,
    lines: int = 3,
    status: str = Invoice.Status.DRAFT,
    number: str | None = None,
) -> Invoice:
    """A draft with `lines` lines (built through the ORM, as a bill run would); optionally marked issued."""
    period_start = date(year, month, 1)
    period_end = date(year + (month == 12), month % 12 + 1, 1)
    net = Decimal("10.00") * lines
    invoice = Invoice.objects.create(
        customer=customer,
        period_start=period_start,
        period_end=period_end,
        currency="GBP",
        net_amount=net,
        tax_amount=net * Decimal("0.05"),
        total_amount=net + net * Decimal("0.05"),
        readings_as_of=datetime(year, month, 28, tzinfo=UTC),
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            kind=InvoiceLine.Kind.ENERGY if i % 2 == 0 else InvoiceLine.Kind.STANDING_CHARGE,
            band="PEAK" if i % 2 == 0 else "",
            description=f"Line {i}",
            quantity=Decimal("100.0000"),
            unit="kWh" if i % 2 == 0 else "day",
            unit_price=Decimal("0.100000"),
            amount=Decimal("10.00"),
        )
        for i in range(lines)
    )
    InvoiceTax.objects.create(
        invoice=invoice, name="VAT", rate=Decimal("0.05"), base_amount=net, amount=invoice.tax_amount
    )
    if status != Invoice.Status.DRAFT:
        Invoice.objects.filter(pk=invoice.pk).update(status=status, number=number, issued_at=NOW)
        invoice.refresh_from_db()
    return invoice


def draft_ref(invoice: Invoice) -> str:
    return f"DRAFT-{invoice.pk}"


@pytest.fixture
def customer():
    return customer_create(account_number="ACC-L", name="Lifecycle Ltd")


ISSUE = """
mutation($number: String!) {
  invoiceIssue(input: {number: $number}) {
    ... on Invoice { number status totalAmount }
    ... on OperationInfo { messages { code field message } }
  }
}"""
VOID = """
mutation($number: String!, $reason: String!) {
  invoiceVoid(input: {number: $number, reason: $reason}) {
    ... on CreditNote { number invoiceNumber totalAmount reason }
    ... on OperationInfo { messages { code field message } }
  }
}"""


def test_issuing_drafts_assigns_consecutive_numbers(customer):
    drafts = [make_invoice(customer, month=m) for m in (1, 2, 3)]

    issued = [invoice_issue(number=draft_ref(d), now=NOW) for d in drafts]

    assert [i.number for i in issued] == ["INV-00000001", "INV-00000002", "INV-00000003"]
    assert {i.status for i in issued} == {Invoice.Status.ISSUED}
    assert all(i.issued_at == NOW for i in issued)
    assert InvoiceNumberSeries.objects.get(prefix="INV").next_value == 4


def test_a_rolled_back_issue_leaves_no_gap(customer):
    first, second = make_invoice(customer, month=1), make_invoice(customer, month=2)

    def issue_then_fail() -> None:
        with transaction.atomic():
            invoice_issue(number=draft_ref(first), now=NOW)
            raise RuntimeError("the caller fails after issuing")

    with pytest.raises(RuntimeError):
        issue_then_fail()
    issued = invoice_issue(number=draft_ref(second), now=NOW)

    first.refresh_from_db()
    assert (first.status, first.number) == (Invoice.Status.DRAFT, None)
    assert issued.number == "INV-00000001"
    assert invoice_issue(number=draft_ref(first), now=NOW).number == "INV-00000002"


def test_issuing_again_is_a_replay_that_returns_the_issued_invoice(customer):
    """RELIABILITY.md check 22 (issue 10 item 6): a replayed issue returns the original result."""
    invoice = invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)

    by_number = invoice_issue(number=invoice.number, now=NOW + timedelta(hours=1))
    by_reference = invoice_issue(number=draft_ref(invoice), now=NOW + timedelta(hours=1))

    assert (by_number.pk, by_number.number, by_number.issued_at) == (invoice.pk, "INV-00000001", NOW)
    assert (by_reference.pk, by_reference.number) == (invoice.pk, "INV-00000001")
    assert InvoiceNumberSeries.objects.get(prefix="INV").next_value == 2
    with pytest.raises(InvoiceNotFound):
        invoice_issue(number="DRAFT-999999", now=NOW)
    invoice.refresh_from_db()
    assert (invoice.number, invoice.issued_at) == ("INV-00000001", NOW)


def test_voiding_issues_a_credit_note_for_the_full_amount(customer):
    invoice = invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)

    credit_note = invoice_void(number=invoice.number, reason="Wrong meter read", now=NOW)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert credit_note.number == "CN-00000001"
    assert (credit_note.net_amount, credit_note.tax_amount, credit_note.total_amount) == (
        invoice.net_amount,
        invoice.tax_amount,
        invoice.total_amount,
    )
    assert credit_note.invoice_id == invoice.pk


def test_only_issued_invoices_can_be_voided_and_only_once(customer):
    draft = make_invoice(customer, month=1)
    invoice = invoice_issue(number=draft_ref(make_invoice(customer, month=2)), now=NOW)
    invoice_void(number=invoice.number, reason="duplicate", now=NOW)

    with pytest.raises(InvoiceNotIssued):
        invoice_void(number=invoice.number, reason="again", now=NOW)
    with pytest.raises(InvoiceNotFound):
        invoice_void(number=draft_ref(draft), reason="draft", now=NOW)
    with pytest.raises(UnableToVoidInvoice):
        invoice_void(number=invoice.number, reason="  ", now=NOW)
    assert CreditNote.objects.count() == 1
    assert InvoiceNumberSeries.objects.get(prefix="CN").next_value == 2


def test_each_state_change_is_audited(customer):
    invoice = invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)
    invoice_void(number=invoice.number, reason="duplicate", now=NOW)

    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Invoice), object_pk=str(invoice.pk)
    ).order_by("id")

    assert [e.changes["status"] for e in entries] == [["DRAFT", "ISSUED"], ["ISSUED", "VOID"]]
    assert {e.action for e in entries} == {LogEntry.Action.UPDATE}


def test_issuing_through_graphql_records_the_client_service_account_as_actor(customer, gql_as, make_token):
    token = make_token("billing:read", "billing:write")
    draft = make_invoice(customer)

    result = gql_as(token)(ISSUE, {"number": draft_ref(draft)})

    assert result["data"]["invoiceIssue"]["number"] == "INV-00000001"
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Invoice), object_pk=str(draft.pk)
    )
    assert entry.actor == token.application.user
    assert entry.actor.username.startswith("api-client:")


def test_no_mutation_changes_an_issued_invoice(customer, gql_as, make_token):
    gql = gql_as(make_token("billing:read", "billing:write"))
    invoice = invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)
    before = Invoice.objects.values().get(pk=invoice.pk)
    lines_before = list(InvoiceLine.objects.filter(invoice=invoice).values())

    again = gql(ISSUE, {"number": invoice.number})
    by_reference = gql(ISSUE, {"number": draft_ref(invoice)})
    adjusted = gql(
        """mutation($n: String!) { invoiceAdjust(input: {number: $n, reason: "goodwill", idempotencyKey: "k",
          amount: "1.05"}) { ... on InvoiceAdjustment { totalAmount } } }""",
        {"n": invoice.number},
    )

    assert adjusted["data"]["invoiceAdjust"] == {"totalAmount": "1.05"}  # a partial credit note beside it
    assert again["data"]["invoiceIssue"]["number"] == invoice.number  # replays return the original result
    assert by_reference["data"]["invoiceIssue"]["number"] == invoice.number
    assert Invoice.objects.values().get(pk=invoice.pk) == before
    assert list(InvoiceLine.objects.filter(invoice=invoice).values()) == lines_before
    invoice_mutations = {
        f.python_name
        for f in schema.get_type_by_name("Mutation").fields
        if f.python_name.startswith("invoice")
    }
    assert invoice_mutations == {"invoice_issue", "invoice_void", "invoice_adjust"}


def test_void_through_graphql_returns_the_credit_note(customer, gql_as, make_token):
    gql = gql_as(make_token("billing:write"))
    invoice = invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)

    result = gql(VOID, {"number": invoice.number, "reason": "Customer moved out"})
    again = gql(VOID, {"number": invoice.number, "reason": "Customer moved out"})

    assert result["data"]["invoiceVoid"] == {
        "number": "CN-00000001",
        "invoiceNumber": invoice.number,
        "totalAmount": "31.50",
        "reason": "Customer moved out",
    }
    assert again["data"]["invoiceVoid"] == result["data"]["invoiceVoid"]  # a replay: the same credit note
    assert CreditNote.objects.count() == 1
    assert error_codes(again) == []


@pytest.mark.postgres
def test_the_database_refuses_bulk_changes_to_issued_invoices(customer):
    invoice = invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)
    refused = (IntegrityError, InternalError)

    with pytest.raises(refused), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(
            total_amount=Decimal("0.00"), net_amount=Decimal("0.00"), tax_amount=Decimal("0.00")
        )
    with pytest.raises(refused), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.DRAFT)
    with pytest.raises(refused), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).update(amount=Decimal("0.01"))
    with pytest.raises(refused), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).delete()
    with pytest.raises(refused), transaction.atomic():
        InvoiceTax.objects.filter(invoice=invoice).update(amount=Decimal("0.00"))
    with pytest.raises(refused), transaction.atomic():
        InvoiceTax.objects.filter(invoice=invoice).delete()
    with pytest.raises(refused), transaction.atomic():
        InvoiceTax.objects.create(
            invoice=invoice, name="Levy", rate=Decimal("0.01"), base_amount=D0, amount=D0
        )
    with pytest.raises(refused), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).delete()
    assert list(invoice.taxes.values_list("name", "amount")) == [("VAT", Decimal("1.50"))]

    credit_note = invoice_void(number=invoice.number, reason="duplicate", now=NOW)
    with pytest.raises(refused), transaction.atomic():
        CreditNote.objects.filter(pk=credit_note.pk).update(reason="changed")
    with pytest.raises(refused), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.ISSUED)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_amount) == (Invoice.Status.VOID, Decimal("31.50"))
