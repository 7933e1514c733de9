"""What the charts of a bill show: consumption per local day and the import unit rate per interval, from
the meter readings and the import tariff of the agreements that overlap the invoice period; a period without
readings or rates gives an empty series."""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from billing.models import Agreement, Invoice
from metering.selectors.readings import PeriodTooLong, reading_series
from pricing.selectors.tariffs import unit_rates


@dataclass(frozen=True)
class DailyUsage:
    day: date
    energy_kwh: Decimal


@dataclass(frozen=True)
class RatePoint:
    valid_from: datetime
    unit_rate_per_kwh: Decimal


@dataclass(frozen=True)
class InvoiceCharts:
    daily_usage: list[DailyUsage]
    unit_rates: list[RatePoint]
    timezone: str = "UTC"  # the meter point's zone, for the charts' local-time labels


def _agreements(invoice: Invoice) -> list[Agreement]:
    return list(
        Agreement.objects.filter(customer_id=invoice.customer_id)
        .select_related("meter_point", "import_tariff")
        .order_by("valid_from", "pk")
    )


def invoice_charts(*, invoice: Invoice) -> InvoiceCharts:
    """Consumption per local day and the import unit rate per interval over the invoice period."""
    usage: dict[date, Decimal] = {}
    rates: list[RatePoint] = []
    timezone = "UTC"
    for agreement in _agreements(invoice):
        timezone = agreement.meter_point.timezone
        zone = ZoneInfo(timezone)
        start = max(datetime.combine(invoice.period_start, time(), zone), agreement.valid_from)
        end = datetime.combine(invoice.period_end, time(), zone)
        if agreement.valid_to is not None:
            end = min(end, agreement.valid_to)
        if start >= end:
            continue
        try:
            buckets = reading_series(
                meter_point=agreement.meter_point, period_from=start, period_to=end, group_by="DAY"
            )
        except (PeriodTooLong, ValueError):
            buckets = []
        for bucket in buckets:
            day = bucket.interval_start.astimezone(zone).date()
            usage[day] = usage.get(day, Decimal("0")) + bucket.kwh
        try:
            priced = unit_rates(tariff_code=agreement.import_tariff.code, period_from=start, period_to=end)
        except ValidationError:  # no version, market price or published rate for part of the period
            priced = []
        rates.extend(RatePoint(rate.valid_from, rate.value_per_kwh) for rate in priced)
    return InvoiceCharts(
        daily_usage=[DailyUsage(day, kwh) for day, kwh in sorted(usage.items())],
        unit_rates=sorted(rates, key=lambda point: point.valid_from),
        timezone=timezone,
    )


# --- CSV ----------------------------------------------------------------------------------------------------
