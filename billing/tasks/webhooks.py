"""Celery adapter: deliver one webhook, retrying with exponential back-off (2, 4, 8 … 256 s)."""

from celery import shared_task
from django.utils import timezone

from billing.services import webhooks

MAX_RETRIES = 8


def retry_countdown(retries: int) -> int:
    """Seconds before retry number `retries + 1`."""
    return 2 ** (retries + 1)


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def webhook_deliver(self, *, delivery_id: int) -> str:
    try:
        delivery = webhooks.webhook_attempt(delivery_id=delivery_id, now=timezone.now())
    except webhooks.WebhookAttemptFailed as exc:
        if self.request.retries >= MAX_RETRIES:
            webhooks.webhook_give_up(delivery_id=delivery_id, error=str(exc))
            return "FAILED"
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc
    return delivery.status
