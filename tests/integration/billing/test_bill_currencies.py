"""Invoices keep each currency's minor unit in the database (issue 10 item 5; RELIABILITY.md check 28)."""

from decimal import Decimal

import pytest

from billing.exports.csv import invoices_csv
from billing.models import Invoice, InvoiceLine, InvoiceTax
from billing.services.invoices import invoice_issue, invoice_summary, invoice_void
from tests.integration.billing.test_bill_runs import (
    RUN_AT,
    flat_document,
    make_accounts,
    make_tariff,
    start_and_execute,
)

D = Decimal


@pytest.mark.django_db
def test_a_jpy_invoice_is_stored_and_shown_in_whole_yen():
    """Check 28: 149 kWh × 18.4233 ¥ = 2745 ¥, 31 days × 45.5 ¥ = 1411 ¥, tax 10 % 416 ¥; shown without
    decimals in the API's webhook payload and the CSV, its lines, taxes and credit note too."""
    document = flat_document("18.4233", standing_charge_per_day="45.5", tax={"name": "CT", "rate": "0.10"})
    make_accounts(make_tariff(document={**document, "currency": "JPY"}), 1)
    start_and_execute()

    invoice = invoice_issue(number=f"DRAFT-{Invoice.objects.get().pk}", now=RUN_AT)
    invoice = Invoice.objects.get(pk=invoice.pk)

    assert [str(line.amount) for line in InvoiceLine.objects.order_by("kind")] == ["2745", "1411"]
    assert [str(tax.amount) for tax in InvoiceTax.objects.all()] == ["416"]
    summary = invoice_summary(invoice)
    assert (summary["netAmount"], summary["taxAmount"], summary["totalAmount"]) == ("4156", "416", "4572")
    assert ",4572," in invoices_csv(invoices=[invoice])
    credit_note = invoice_void(number=invoice.number, reason="Test.", now=RUN_AT)
    credit_note.refresh_from_db()
    assert (credit_note.currency, str(credit_note.total_amount)) == ("JPY", "4572")


@pytest.mark.django_db
def test_a_kwd_invoice_keeps_three_decimals():
    """Check 28: 149 kWh × 0.0125 = 1.8625 → 1.863 KWD and 31 days × 0.003 = 0.093 KWD (not 1.86 and 0.09)."""
    document = flat_document("0.0125", standing_charge_per_day="0.003")
    make_accounts(make_tariff(document={**document, "currency": "KWD"}), 1)
    start_and_execute()

    invoice = Invoice.objects.get()

    assert sorted(str(line.amount) for line in invoice.lines.all()) == ["0.093", "1.863"]
    assert (invoice.currency, str(invoice.net_amount), str(invoice.total_amount)) == ("KWD", "1.956", "1.956")


@pytest.mark.django_db
def test_the_api_shows_a_jpy_total_without_decimals(gql_as, staff):
    """Check 28: GraphQL money fields are decimal strings in the currency's minor unit, even when the
    query does not ask for the currency."""
    document = flat_document("18.4233", standing_charge_per_day="45.5", tax={"name": "CT", "rate": "0.10"})
    make_accounts(make_tariff(document={**document, "currency": "JPY"}), 1)
    start_and_execute()
    invoice_issue(number=f"DRAFT-{Invoice.objects.get().pk}", now=RUN_AT)

    result = gql_as(staff)(
        "{ invoices { edges { node { totalAmount lines { amount } taxes { amount } } } } }"
    )

    [edge] = result["data"]["invoices"]["edges"]
    assert edge["node"] == {
        "totalAmount": "4572",
        "lines": [{"amount": "2745"}, {"amount": "1411"}],
        "taxes": [{"amount": "416"}],
    }
