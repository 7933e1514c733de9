"""An account with recent half-hourly readings (one day estimated), a TOU tariff priced for today and
tomorrow, and last month's bill: what the account page shows, relative to the real clock."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone as django_timezone

from billing.models import Agreement, Customer
from metering.models import Quality
from metering.validation import ReadingInput
from pricing.services.tariffs import tariff_create, tariff_version_publish
from tests.factories.metering import half_hours, ingest, make_meter
from tests.functional.billing.test_portal import make_invoice

LONDON = ZoneInfo("Europe/London")
DAYS = 35
PEAK_KWH, OFF_PEAK_KWH = "0.3000", "0.1000"


@dataclass(frozen=True)
class LiveAccount:
    now: datetime
    today: date
    estimated_day: date
    mpan: str


def live_account(customer: Customer) -> LiveAccount:
    """Readings from DAYS local days ago until the last whole half-hour (peak 16:00–19:00 at 0.3 kWh, else
    0.1 kWh), the day three days ago estimated; tariff "Live ToU" (10p off-peak, 30p peak, 45p/day)."""
    now = django_timezone.now()
    today = now.astimezone(LONDON).date()
    start = datetime.combine(today - timedelta(days=DAYS), datetime.min.time(), LONDON).astimezone(UTC)
    end = now.replace(minute=(now.minute // 30) * 30, second=0, microsecond=0)
    meter = make_meter("M-LIVE", installed_at=start - timedelta(days=1))
    estimated_day = today - timedelta(days=3)
    actual, estimated = [], []
    for reading in half_hours(start, int((end - start).total_seconds() // 1800)):
        local = reading.interval_start.astimezone(LONDON)
        kwh = Decimal(PEAK_KWH if 16 <= local.hour < 19 else OFF_PEAK_KWH)
        item = ReadingInput(reading.interval_start, reading.interval_end, kwh)
        (estimated if local.date() == estimated_day else actual).append(item)
    ingest(meter, actual, now=now)
    ingest(meter, estimated, now=now, quality=Quality.ESTIMATED)
    tariff = tariff_create(code="LIVE-TOU", name="Live ToU", direction="IMPORT")
    hours = ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5
    tariff_version_publish(
        tariff_code="LIVE-TOU",
        valid_from=start - timedelta(days=400),
        valid_to=None,
        document={
            "format": "tariff/v1",
            "currency": "GBP",
            "timezone": "Europe/London",
            "standing_charge_per_day": "0.4500",
            "energy": {
                "kind": "tou",
                "rates_per_kwh": {"off_peak": "0.1000", "peak": "0.3000"},
                "weekday": hours,
                "weekend": hours,
            },
        },
        now=now,
    )
    Agreement.objects.create(
        customer=customer,
        meter_point=meter.meter_point,
        import_tariff=tariff,
        valid_from=start - timedelta(days=1),
    )
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    make_invoice(
        customer, "INV-LIVE-1", period_start=previous, period_end=first, issued_at=now - timedelta(hours=1)
    )
    return LiveAccount(now=now, today=today, estimated_day=estimated_day, mpan=meter.meter_point.identifier)
