"""Reads of webhook deliveries."""

from django.db.models import Count

from billing.models import WebhookDelivery


def webhook_delivery_counts() -> dict[str, int]:
    """Deliveries per status (the Prometheus gauge): FAILED ones gave up and wait for staff."""
    rows = WebhookDelivery.objects.values_list("status").annotate(n=Count("id")).order_by("status")
    return dict(rows)
