"""Webhook events of money movement: invoice.created (bill run), bill_run.completed (held accounts and
reasons), invoice.issued (due date), invoice.adjusted, invoice.voided (what remained), payment.recorded —
each signed (HMAC-SHA256 over "<timestamp>.<body>") with its own event id and the documented payload. Also
the agreement minimum charge line written by a bill run."""

import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.models import Agreement, BillRunItem, Customer, InvoiceLine, WebhookDelivery
from billing.services.invoices import invoice_adjust, invoice_issue, invoice_void
from billing.services.payments import payment_record
from tests.functional.billing.test_invoice_lifecycle import make_invoice
from tests.functional.billing.test_webhooks import SECRET, Endpoint, expected_signature
from tests.integration.billing.test_bill_runs import (
    OCT_FROM,
    OCT_HALF_HOURS,
    ingest_bulk,
    make_accounts,
    make_tariff,
    start_and_execute,
)

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def endpoint(settings):
    server = Endpoint()
    settings.BILLING_WEBHOOK_URL = server.url
    settings.BILLING_WEBHOOK_SECRET = SECRET
    yield server
    server.close()


def events(endpoint):
    """The received events, each checked for its signature and its id header."""
    received = []
    for headers, body in endpoint.requests:
        assert hmac.compare_digest(headers["X-Webhook-Signature"], expected_signature(headers, body))
        event = json.loads(body)
        assert headers["X-Webhook-Id"] == event["id"]
        received.append(event)
    assert len({e["id"] for e in received}) == len(received)
    return received


def test_a_bill_run_sends_invoice_created_and_completed_with_the_held_accounts(
    endpoint, django_capture_on_commit_callbacks
):
    tariff = make_tariff()
    (billed, held), meters = make_accounts(tariff, 2, intervals=0)
    ingest_bulk([meters[0]], OCT_FROM, OCT_HALF_HOURS, 1000)
    ingest_bulk([meters[1]], OCT_FROM, OCT_HALF_HOURS - 4, 1000)

    with django_capture_on_commit_callbacks(execute=True):
        run = start_and_execute()

    created, completed = events(endpoint)
    reason = BillRunItem.objects.get(bill_run=run, customer=held).reason
    invoice = billed.invoices.get()
    assert created["type"] == "invoice.created"
    assert created["data"] == {
        "occurredAt": "2024-11-02T09:00:00+00:00",
        "number": f"DRAFT-{invoice.pk}",
        "accountNumber": billed.account_number,
        "periodStart": "2024-10-01",
        "periodEnd": "2024-11-01",
        "status": "DRAFT",
        "currency": "GBP",
        "netAmount": "52.75",  # 149 kWh × 0.25 + 31 days × 0.50
        "taxAmount": "2.64",
        "totalAmount": "55.39",
        "taxes": [{"name": "VAT", "rate": "0.05", "baseAmount": "52.75", "amount": "2.64"}],
        "billRunId": run.pk,
        "replaces": None,
    }
    assert completed["type"] == "bill_run.completed"
    assert completed["data"] == {
        "occurredAt": "2024-11-02T09:00:00+00:00",
        "billRunId": run.pk,
        "idempotencyKey": "oct",
        "periodStart": "2024-10-01",
        "periodEnd": "2024-11-01",
        "status": "COMPLETED",
        "accountsTotal": 2,
        "invoiceCount": 1,
        "heldCount": 1,
        "held": [{"accountNumber": held.account_number, "reason": reason}],
        "failed": [],
    }
    assert "intervals" in reason


def test_issue_adjust_void_and_payment_events_carry_their_values(
    customer_a, endpoint, django_capture_on_commit_callbacks
):
    draft = make_invoice(customer_a)

    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_issue(number=f"DRAFT-{draft.pk}", now=NOW)
        invoice_adjust(
            number=invoice.number, reason="goodwill", idempotency_key="g", amount=D("10.50"), now=NOW
        )
        invoice_adjust(
            number=invoice.number, reason="goodwill", idempotency_key="g", amount=D("10.50"), now=NOW
        )
        invoice_void(number=invoice.number, reason="wrong tariff", now=NOW)
        payment_record(
            account_number="ACC-A",
            amount=D("21.00"),
            currency="GBP",
            received_date=date(2026, 2, 2),
            method="CARD",
            external_reference="card-77",
            now=NOW,
        )
        payment_record(  # a replay: no second event
            account_number="ACC-A",
            amount=D("21.00"),
            currency="GBP",
            received_date=date(2026, 2, 2),
            method="CARD",
            external_reference="card-77",
            now=NOW,
        )

    issued, adjusted, voided, paid = events(endpoint)
    assert [e["type"] for e in (issued, adjusted, voided, paid)] == [
        "invoice.issued",
        "invoice.adjusted",
        "invoice.voided",
        "payment.recorded",
    ]
    assert issued["data"]["dueDate"] == "2026-02-17"  # 14 days: BILLING_PAYMENT_TERMS_DAYS
    assert adjusted["data"]["number"] == "INV-00000001"
    assert adjusted["data"]["adjustment"] == {
        "number": "CN-00000001",
        "reason": "goodwill",
        "netAmount": "10.00",
        "taxAmount": "0.50",
        "totalAmount": "10.50",
        "lines": [],
        "remainingAmount": "21.00",
        "issuedAt": "2026-02-03T09:00:00+00:00",
    }
    assert (voided["data"]["creditNoteNumber"], voided["data"]["status"]) == ("CN-00000002", "VOID")
    assert paid["data"] == {
        "occurredAt": "2026-02-03T09:00:00+00:00",
        "accountNumber": "ACC-A",
        "externalReference": "card-77",
        "amount": "21.00",
        "currency": "GBP",
        "receivedDate": "2026-02-02",
        "method": "CARD",
    }
    assert WebhookDelivery.objects.filter(status="DELIVERED").count() == 4


def test_a_bill_run_adds_the_agreement_minimum_charge_line():
    tariff = make_tariff()
    (customer,), _ = make_accounts(tariff, 1)
    Agreement.objects.filter(customer=customer).update(minimum_charge_per_month=D("60.00"))

    start_and_execute()

    invoice = Customer.objects.get(pk=customer.pk).invoices.get()
    line = InvoiceLine.objects.get(invoice=invoice, kind="MINIMUM_CHARGE")
    # lines 37.25 energy + 15.50 standing = 52.75 < 60.00 (October: one whole month)
    assert (line.band, line.quantity, line.unit, line.amount) == (
        "agreement minimum",
        D("31.0000"),
        "day",
        D("7.25"),
    )
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (
        D("60.00"),
        D("3.00"),
        D("63.00"),
    )
