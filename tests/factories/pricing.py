"""Pricing helpers for the tests."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone as django_timezone

from pricing.services.dynamic import AnnouncedRate
from pricing.services.tariffs import tariff_create, tariff_version_publish

# The trial's three announced rates (per kWh).
BANDS = {"Low": Decimal("0.0399"), "Normal": Decimal("0.1176"), "High": Decimal("0.6720")}


def make_announced_dtou_tariff(code: str = "DTOU") -> str:
    """A dynamic time-of-use tariff like the 2013 trial's: a dynamic version without rules from 2013, whose
    rates are announced day-ahead (`announced_rates_publish`)."""
    tariff_create(code=code, name="Announced dynamic ToU")
    tariff_version_publish(
        tariff_code=code,
        valid_from=datetime(2013, 1, 1, tzinfo=UTC),
        valid_to=None,
        document={
            "format": "tariff/v1",
            "currency": "GBP",
            "timezone": "Europe/London",
            "energy": {"kind": "dynamic", "market": "LCL-DTOU", "rules": []},
        },
        now=django_timezone.now(),
    )
    return code


def announced(day: date = date(2013, 1, 15), high_from: int = 34) -> list[AnnouncedRate]:
    """A January day's 48 announced rates: Low until 04:00, High for two hours from slot `high_from`,
    Normal otherwise (London is on GMT in January, so slots start at UTC midnight)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rates = []
    for slot in range(48):
        band = "High" if high_from <= slot < high_from + 4 else "Low" if slot < 8 else "Normal"
        begin = start + timedelta(minutes=30 * slot)
        rates.append(AnnouncedRate(begin, begin + timedelta(minutes=30), BANDS[band], band))
    return rates
