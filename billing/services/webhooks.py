"""Signed webhooks to the billing system: recorded with the change, delivered after commit, retried.

An event is a `WebhookDelivery` row written in the transaction that made the change (so a rolled-back
change sends nothing) and handed to Celery on commit. The body is JSON; the headers carry the event id,
a timestamp and `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>`.
Settings: `BILLING_WEBHOOK_URL` (unset or empty: no webhooks) and `BILLING_WEBHOOK_SECRET`.
"""

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime

from django.conf import settings
from django.db import transaction

from billing.models import WebhookDelivery
from core.jobs import enqueue_on_commit

TIMEOUT_SECONDS = 10
DELIVER_TASK = "billing.tasks.webhooks.webhook_deliver"


# Answers that say the receiver may accept the same event later; any other 4xx is final (a bad signature,
# an unknown endpoint, a payload it refuses): retrying it would only repeat the refusal.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


class WebhookAttemptFailed(Exception):
    """One delivery attempt failed (network error or a non-2xx answer); the task retries it if `retryable`,
    not before `retry_after` seconds when the endpoint said so."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: the back-off applies
        return None


def webhook_url() -> str:
    return getattr(settings, "BILLING_WEBHOOK_URL", "") or ""


def webhook_secret() -> str:
    return getattr(settings, "BILLING_WEBHOOK_SECRET", "") or ""


def webhook_event_record(*, event_type: str, payload: dict, now: datetime) -> WebhookDelivery | None:
    """Record an event to send, and enqueue its delivery once the surrounding transaction commits."""
    if not webhook_url():
        return None
    delivery = WebhookDelivery.objects.create(
        event_id=uuid.uuid4(),
        event_type=event_type,
        payload={"occurredAt": now.isoformat(), **payload},
    )
    # A broker outage is logged and leaves the delivery PENDING.
    enqueue_on_commit(DELIVER_TASK, delivery_id=delivery.pk)
    return delivery


def webhook_events_record(*, events: list[tuple[str, dict]], now: datetime) -> list[WebhookDelivery]:
    """Record many events in one insert (a bill run's `invoice.created`), each delivered after commit."""
    if not webhook_url() or not events:
        return []
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event_id=uuid.uuid4(), event_type=event_type, payload={"occurredAt": now.isoformat(), **payload}
        )
        for event_type, payload in events
    )
    for delivery in deliveries:
        enqueue_on_commit(DELIVER_TASK, delivery_id=delivery.pk)
    return deliveries


def webhook_body(delivery: WebhookDelivery) -> bytes:
    envelope = {"id": str(delivery.event_id), "type": delivery.event_type, "data": delivery.payload}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`; receivers recompute and compare."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_attempt(*, delivery_id: int, now: datetime) -> WebhookDelivery:
    """POST one delivery once; mark it DELIVERED, or record the error and raise WebhookAttemptFailed.

    Already delivered (a retried task that succeeded before): nothing is sent again.
    """
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return delivery
    url = webhook_url()
    if not url.startswith(("https://", "http://")):
        raise WebhookAttemptFailed(f"BILLING_WEBHOOK_URL is not an http(s) URL: {url!r}")
    body = webhook_body(delivery)
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "billing-webhooks/1",
            "X-Webhook-Id": str(delivery.event_id),
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": webhook_signature(secret=webhook_secret(), timestamp=timestamp, body=body),
        },
    )
    WebhookDelivery.objects.filter(pk=delivery_id).update(attempts=delivery.attempts + 1)
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        _record_error(delivery, f"HTTP {exc.code}")
        retryable = not 400 <= exc.code < 500 or exc.code in RETRYABLE_CLIENT_ERRORS
        raise WebhookAttemptFailed(
            f"HTTP {exc.code}", retryable=retryable, retry_after=_retry_after(exc.headers)
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        _record_error(delivery, str(exc))
        raise WebhookAttemptFailed(str(exc)) from exc
    if not 200 <= status < 300:
        _record_error(delivery, f"HTTP {status}")
        raise WebhookAttemptFailed(f"HTTP {status}")
    delivery.status = WebhookDelivery.Status.DELIVERED
    delivery.delivered_at = now
    delivery.last_error = ""
    delivery.save(update_fields=["status", "delivered_at", "last_error"])
    return delivery


def webhook_give_up(*, delivery_id: int, error: str) -> None:
    """Mark a delivery FAILED: after its last retry, or at once on an answer that retrying cannot change.
    Staff see it in admin (Billing › Webhook deliveries) and Prometheus in billing_webhook_deliveries."""
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.FAILED, last_error=error[:300]
    )


def _record_error(delivery: WebhookDelivery, error: str) -> None:
    delivery.last_error = error[:300]
    delivery.save(update_fields=["last_error"])


@transaction.atomic
def webhook_redeliver(*, delivery_ids: list[int]) -> int:
    """Send FAILED deliveries again (staff, once the receiver is fixed): PENDING, enqueued after commit."""
    failed = list(
        WebhookDelivery.objects.select_for_update()
        .filter(pk__in=delivery_ids, status=WebhookDelivery.Status.FAILED)
        .values_list("pk", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=failed).update(status=WebhookDelivery.Status.PENDING)
    for delivery_id in failed:
        enqueue_on_commit(DELIVER_TASK, delivery_id=delivery_id)
    return len(failed)
