"""Webhooks on issue: recorded in the issuing transaction, sent after commit, signed with the shared
secret, retried with exponential back-off and jitter until the endpoint accepts them."""

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from billing.models import WebhookDelivery
from billing.services.customers import customer_create
from billing.services.invoices import invoice_issue, invoice_void
from billing.tasks.webhooks import MAX_RETRIES, retry_countdown, webhook_deliver
from tests.functional.billing.test_invoice_lifecycle import draft_ref, make_invoice

NOW = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
SECRET = "shh-test-secret"

pytestmark = pytest.mark.django_db


class Endpoint:
    """A local HTTP receiver answering 500 to the first `failures` requests, then 204."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.requests: list[tuple[dict, bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.requests.append((dict(self.headers), body))
                self.send_response(500 if len(endpoint.requests) <= endpoint.failures else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(request, settings):
    server = Endpoint(failures=getattr(request, "param", 0))
    settings.BILLING_WEBHOOK_URL = server.url
    settings.BILLING_WEBHOOK_SECRET = SECRET
    yield server
    server.close()


@pytest.fixture
def eager_retries():
    """Run Celery retries in-process (eager mode re-applies the task) instead of raising `Retry`."""
    conf = webhook_deliver.app.conf
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = propagates


@pytest.fixture
def customer():
    return customer_create(account_number="ACC-W", name="Webhook Ltd")


def expected_signature(headers: dict, body: bytes) -> str:
    signed = headers["X-Webhook-Timestamp"].encode() + b"." + body
    return "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()


def test_issuing_sends_a_signed_webhook_after_commit(customer, endpoint, django_capture_on_commit_callbacks):
    draft = make_invoice(customer)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invoice = invoice_issue(number=draft_ref(draft), now=NOW)
        assert endpoint.requests == []  # nothing leaves before the transaction commits

    assert len(callbacks) == 1
    [(headers, body)] = endpoint.requests
    assert hmac.compare_digest(headers["X-Webhook-Signature"], expected_signature(headers, body))
    event = json.loads(body)
    delivery = WebhookDelivery.objects.get()
    assert headers["X-Webhook-Id"] == event["id"] == str(delivery.event_id)
    assert event["type"] == "invoice.issued"
    assert event["data"]["number"] == invoice.number
    assert event["data"]["totalAmount"] == "31.50"
    assert event["data"]["taxes"] == [
        {"name": "VAT", "rate": "0.050000", "baseAmount": "30.00", "amount": "1.50"}
    ]
    assert (delivery.status, delivery.attempts) == ("DELIVERED", 1)


def test_a_tampered_body_does_not_verify(customer, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)

    [(headers, body)] = endpoint.requests
    assert headers["X-Webhook-Signature"] != expected_signature(headers, body.replace(b"31.50", b"0.00"))


def test_every_event_has_its_own_id(customer, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoices = [
            invoice_issue(number=draft_ref(make_invoice(customer, month=m)), now=NOW) for m in (1, 2, 3)
        ]
        invoice_void(number=invoices[0].number, reason="duplicate", now=NOW)

    ids = [headers["X-Webhook-Id"] for headers, _ in endpoint.requests]
    assert len(ids) == len(set(ids)) == 4
    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "invoice.issued",
        "invoice.issued",
        "invoice.issued",
        "invoice.voided",
    ]


def test_a_rolled_back_issue_sends_nothing(customer, endpoint, django_capture_on_commit_callbacks):
    draft = make_invoice(customer)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            from django.db import transaction

            with transaction.atomic():
                invoice_issue(number=draft_ref(draft), now=NOW)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    assert callbacks == []
    assert endpoint.requests == []
    assert not WebhookDelivery.objects.exists()


def test_no_webhook_url_means_no_webhooks(customer, settings):
    settings.BILLING_WEBHOOK_URL = ""

    invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)

    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("endpoint", [2], indirect=True)
def test_a_failing_endpoint_is_retried_with_back_off_until_it_accepts(
    customer, endpoint, monkeypatch, eager_retries, django_capture_on_commit_callbacks
):
    countdowns = []
    real_retry = webhook_deliver.retry

    def spy_retry(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return real_retry(*args, **kwargs)

    monkeypatch.setattr(webhook_deliver, "retry", spy_retry)

    with django_capture_on_commit_callbacks(execute=True):
        invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("DELIVERED", 3)
    assert 1 <= countdowns[0] <= 2  # 2 s, 4 s steps, half of each at random (jitter)
    assert 2 <= countdowns[1] <= 4
    ids = {headers["X-Webhook-Id"] for headers, _ in endpoint.requests}
    assert len(endpoint.requests) == 3
    assert ids == {str(delivery.event_id)}  # the same event each time: receivers de-duplicate on it


@pytest.mark.parametrize("endpoint", [100], indirect=True)
def test_a_delivery_is_marked_failed_after_the_last_retry(
    customer, endpoint, eager_retries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "FAILED",
        MAX_RETRIES + 1,
        "HTTP 500",
    )
    for n, step in enumerate([2, 4, 8, 16, 32, 64, 128, 256]):
        assert step / 2 <= retry_countdown(n) <= step


def test_a_delivered_event_is_not_sent_again(customer, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)
    delivery = WebhookDelivery.objects.get()

    webhook_deliver.apply(kwargs={"delivery_id": delivery.pk})

    assert len(endpoint.requests) == 1
