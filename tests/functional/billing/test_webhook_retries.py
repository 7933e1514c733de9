"""Webhook retries (issue 10 item 17; RELIABILITY.md check 39: retries only for errors that may pass, with
back-off and jitter, and a delivery that gives up is visible to staff and in metrics): a 4xx other than 408
and 429 is not retried; 408/429 are, no sooner than Retry-After; retry delays are jittered."""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from billing.models import WebhookDelivery
from billing.services.customers import customer_create
from billing.services.invoices import invoice_issue
from billing.tasks.webhooks import webhook_deliver
from core.retries import backoff_seconds
from tests.functional.billing.test_invoice_lifecycle import draft_ref, make_invoice

NOW = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP receiver answering the given statuses in turn (then 204), with optional headers."""

    def __init__(self, statuses: list[int], headers: dict[str, str] | None = None):
        self.statuses = list(statuses)
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receive(settings):
    receivers = []

    def make(statuses: list[int], headers: dict[str, str] | None = None) -> Receiver:
        receiver = Receiver(statuses, headers)
        receivers.append(receiver)
        settings.BILLING_WEBHOOK_URL = receiver.url
        settings.BILLING_WEBHOOK_SECRET = "secret"
        return receiver

    yield make
    for receiver in receivers:
        receiver.close()


@pytest.fixture
def countdowns(monkeypatch):
    """Retries run in-process (eager); the countdown of each is recorded."""
    conf = webhook_deliver.app.conf
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    seen: list[float] = []
    real_retry = webhook_deliver.retry

    def spy_retry(*args, **kwargs):
        seen.append(kwargs["countdown"])
        return real_retry(*args, **kwargs)

    monkeypatch.setattr(webhook_deliver, "retry", spy_retry)
    yield seen
    conf.task_eager_propagates = propagates


def issue_one(django_capture_on_commit_callbacks) -> WebhookDelivery:
    customer = customer_create(account_number="ACC-R", name="Retry Ltd")
    with django_capture_on_commit_callbacks(execute=True):
        invoice_issue(number=draft_ref(make_invoice(customer)), now=NOW)
    return WebhookDelivery.objects.get()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_a_client_error_is_not_retried_and_the_delivery_fails_at_once(
    status, receive, countdowns, django_capture_on_commit_callbacks
):
    """Check 39: a 4xx other than 408/429 gives up after one attempt."""
    receiver = receive([status])

    delivery = issue_one(django_capture_on_commit_callbacks)

    assert (delivery.status, delivery.attempts) == ("FAILED", 1)
    assert delivery.last_error == f"HTTP {status} (not retried)"
    assert receiver.requests == 1
    assert countdowns == []


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_timeouts_rate_limits_and_server_errors_are_retried(
    status, receive, countdowns, django_capture_on_commit_callbacks
):
    receiver = receive([status, status])

    delivery = issue_one(django_capture_on_commit_callbacks)

    assert (delivery.status, delivery.attempts) == ("DELIVERED", 3)
    assert receiver.requests == 3
    assert len(countdowns) == 2


def test_a_rate_limited_delivery_waits_at_least_retry_after(
    receive, countdowns, django_capture_on_commit_callbacks
):
    receive([429], headers={"Retry-After": "45"})

    issue_one(django_capture_on_commit_callbacks)

    assert countdowns
    assert countdowns[0] >= 45


def test_back_off_doubles_with_jitter_and_is_capped():
    """Check 39: exponential back-off with jitter: each delay is in [step/2, step] (so delays never decrease
    from one retry to the next, up to the cap), and delays of tasks that failed together differ."""
    for retries in range(12):
        step = min(600, 2 * 2**retries)
        delays = [backoff_seconds(retries, base=2, cap=600) for _ in range(50)]
        assert all(step / 2 <= delay <= step for delay in delays)
        assert len(set(delays)) > 40
    assert backoff_seconds(3, base=2, cap=600, rng=lambda: 0.0) == 8
    assert backoff_seconds(3, base=2, cap=600, rng=lambda: 1.0) == 16


def test_a_delivery_that_gave_up_is_listed_for_staff_counted_in_metrics_and_can_be_sent_again(
    receive, countdowns, django_capture_on_commit_callbacks, admin_client
):
    """Check 39: a delivery that gives up is visible to staff (admin) and in metrics."""
    receive([404])
    delivery = issue_one(django_capture_on_commit_callbacks)

    page = admin_client.get("/admin/billing/webhookdelivery/?status__exact=FAILED")
    metrics = admin_client.get("/metrics").content.decode()

    assert page.status_code == 200
    assert str(delivery.event_id).encode() in page.content
    assert 'billing_webhook_deliveries{status="FAILED"} 1.0' in metrics

    receive([])  # the receiver is fixed
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            "/admin/billing/webhookdelivery/",
            {"action": "deliver_again", "_selected_action": [delivery.pk]},
        )
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("DELIVERED", 2)
