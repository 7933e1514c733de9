from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing.receivers import tariff_version_ending_refuse_if_billed
        from pricing.signals import tariff_version_ending

        tariff_version_ending.connect(
            tariff_version_ending_refuse_if_billed, dispatch_uid="billing-tariff-end"
        )
