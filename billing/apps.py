from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing.selectors.webhooks import webhook_delivery_counts
        from config.metrics import database_gauge_register

        database_gauge_register(
            "billing_webhook_deliveries",
            "Webhook deliveries by status; FAILED: gave up, waiting for staff (admin: deliver again)",
            label="status",
            read=webhook_delivery_counts,
        )
