"""Receivers of other apps' signals (connected in `BillingConfig.ready`)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from billing.selectors.invoices import invoice_issued_using_tariff_version
from pricing.services.tariffs import TariffVersionInUse


def tariff_version_ending_refuse_if_billed(sender, *, version, ends_at: datetime, **kwargs) -> None:
    """Refuse to end a tariff version at `ends_at` if an issued invoice billed days from then on with it."""
    zone = ZoneInfo(str(version.document.get("timezone", "UTC")))
    first_day = ends_at.astimezone(zone).date()
    invoice = invoice_issued_using_tariff_version(tariff_version_id=version.pk, period_end_after=first_day)
    if invoice is not None:
        raise TariffVersionInUse(
            f"Version {version.pk} of tariff {version.tariff.code} cannot end at {ends_at.isoformat()}: "
            f"issued invoice {invoice.number} ({invoice.period_start}–{invoice.period_end}) was priced "
            "with it after then. Publish the new version from a later day.",
            field="valid_from",
        )
