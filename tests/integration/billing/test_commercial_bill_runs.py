"""Commercial charges through a bill run: the ratchet's history and the feeder's coincident peak are loaded
from the database (docs/commercial-tariffs.md)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.models import Agreement, Customer, Invoice
from billing.services.bill_runs import bill_run_execute, bill_run_start
from pricing.models import Tariff
from pricing.services.tariffs import tariff_version_publish
from tests.factories.metering import NOW, half_hours, ingest, make_meter
from tests.integration.billing.test_bill_runs import OCT_FROM, ingest_bulk

D = Decimal
RUN_AT = datetime(2024, 12, 2, 9, 0, tzinfo=UTC)
DOCUMENT = {
    "format": "tariff/v1",
    "currency": "GBP",
    "timezone": "Europe/London",
    "energy": {"kind": "flat", "rate_per_kwh": "0.25"},
    "demand": {
        "rate_per_kw": "10.00",
        "ratchet": {"percent": "80", "months": 1},
        "coincident_peak": {"rate_per_kw": "7.00", "basis": "feeder", "intervals": 1},
    },
}


def account(tariff, name, feeder):
    meter = make_meter(f"CI-{name}", feeder=feeder)
    customer = Customer.objects.create(account_number=f"CI-{name}", name=name)
    Agreement.objects.create(
        customer=customer,
        meter_point=meter.meter_point,
        import_tariff=tariff,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
    )
    return meter


@pytest.mark.django_db
def test_ratchet_history_and_feeder_coincident_peak_come_from_the_readings():
    tariff = Tariff.objects.create(code="CI", name="CI", direction="IMPORT")
    tariff_version_publish(
        tariff_code="CI",
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_to=None,
        document=DOCUMENT,
        now=NOW,
    )
    a, b, c = account(tariff, "A", "F1"), account(tariff, "B", "F1"), account(tariff, "C", "F2")
    ingest_bulk([a, b, c], OCT_FROM, 1490 + 1440, 1000)  # October and November at 0.1 kWh a half-hour
    ingest(a, half_hours(datetime(2024, 10, 10, 12, tzinfo=UTC), 1, "5.0"))  # A: 10 kW in October
    ingest(b, half_hours(datetime(2024, 11, 5, 8, tzinfo=UTC), 1, "3.0"))  # F1's peak: 3.1 kWh
    ingest(a, half_hours(datetime(2024, 11, 20, 17, tzinfo=UTC), 1, "1.0"))
    ingest(b, half_hours(datetime(2024, 11, 20, 17, tzinfo=UTC), 1, "0.5"))
    ingest(c, half_hours(datetime(2024, 11, 20, 17, tzinfo=UTC), 1, "2.0"))  # F2's peak (and the system's)

    run = bill_run_start(
        period_start=date(2024, 11, 1), period_end=date(2024, 12, 1), idempotency_key="ci-nov", now=RUN_AT
    )
    bill_run_execute(bill_run_id=run.pk, now=RUN_AT)

    def lines(name):
        invoice = Invoice.objects.get(customer__account_number=f"CI-{name}")
        rows = invoice.lines.order_by("pk").values_list("kind", "band", "quantity", "amount")
        return [tuple(row) for row in rows], invoice.total_amount

    assert lines("A") == (
        [
            ("ENERGY", "flat", D("144.9000"), D("36.23")),
            ("DEMAND", "ratchet", D("8.0000"), D("80.00")),  # 80 % of October's 10 kW > November's 2 kW
            ("DEMAND", "coincident_peak", D("0.2000"), D("1.40")),  # A's load at F1's peak (5 Nov 08:00)
        ],
        D("117.63"),
    )
    assert lines("B") == (
        [
            ("ENERGY", "flat", D("147.3000"), D("36.83")),
            ("DEMAND", "", D("6.0000"), D("60.00")),
            ("DEMAND", "coincident_peak", D("6.0000"), D("42.00")),
        ],
        D("138.83"),
    )
    assert lines("C") == (
        [
            ("ENERGY", "flat", D("145.9000"), D("36.48")),
            ("DEMAND", "", D("4.0000"), D("40.00")),
            ("DEMAND", "coincident_peak", D("4.0000"), D("28.00")),  # F2's own peak, 20 Nov 17:00
        ],
        D("104.48"),
    )
