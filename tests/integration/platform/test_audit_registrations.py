"""The models staff and integrations change are in the audit log."""

from auditlog.registry import auditlog
from django.apps import apps

AUDITED = [
    "billing.Customer",
    "billing.Agreement",
    "core.ApiClient",
    "forecasting.WeatherLocation",
    "forecasting.WeatherArea",
    "forecasting.Series",
    "metering.MeterPoint",
    "metering.Meter",
    "pricing.Market",
    "pricing.Tariff",
    "pricing.TariffVersion",
    "pricing.PricingEvent",
    "grid.BatteryAsset",
    "grid.FeederLimit",
]


def test_every_model_that_staff_or_integrations_change_is_audited():
    missing = [label for label in AUDITED if not auditlog.contains(apps.get_model(label))]

    assert missing == []
