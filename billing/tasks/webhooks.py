"""Celery adapter: deliver one webhook; retry with exponential back-off and jitter (about 2, 4, 8 … 256 s)
while the endpoint may recover (network errors, 5xx, 408, 429); give up at once on any other 4xx."""

import logging

from celery import shared_task
from django.utils import timezone

from billing.services import webhooks
from core.retries import backoff_seconds

MAX_RETRIES = 8
BASE_SECONDS = 2.0
CAP_SECONDS = 600.0

log = logging.getLogger(__name__)


def retry_countdown(retries: int, *, retry_after: float | None = None) -> float:
    """Seconds before retry number `retries + 1`: the back-off step 2^(retries + 1) s with jitter, at
    least what the endpoint asked for in Retry-After (up to 10 minutes)."""
    countdown = backoff_seconds(retries, base=BASE_SECONDS, cap=CAP_SECONDS)
    if retry_after:
        countdown = max(countdown, min(retry_after, CAP_SECONDS))
    return countdown


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def webhook_deliver(self, *, delivery_id: int) -> str:
    try:
        delivery = webhooks.webhook_attempt(delivery_id=delivery_id, now=timezone.now())
    except webhooks.WebhookAttemptFailed as exc:
        if not exc.retryable or self.request.retries >= MAX_RETRIES:
            reason = str(exc) if exc.retryable else f"{exc} (not retried)"
            webhooks.webhook_give_up(delivery_id=delivery_id, error=reason)
            log.error(
                "gave up webhook delivery %s after %d attempts: %s",
                delivery_id,
                self.request.retries + 1,
                reason,
            )
            return "FAILED"
        countdown = retry_countdown(self.request.retries, retry_after=exc.retry_after)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return delivery.status
