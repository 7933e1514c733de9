from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing.receivers import tariff_version_ending_refuse_if_billed
        from pricing.signals import tariff_version_ending

        tariff_version_ending.connect(
            tariff_version_ending_refuse_if_billed, dispatch_uid="billing-tariff-end"
        )

        from billing.selectors.webhooks import webhook_delivery_counts
        from core.metrics import database_gauge_register

        database_gauge_register(
            "billing_webhook_deliveries",
            "Webhook deliveries by status; FAILED: gave up, waiting for staff (admin: deliver again)",
            label="status",
            read=webhook_delivery_counts,
        )
