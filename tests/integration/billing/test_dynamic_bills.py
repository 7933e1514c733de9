"""Bills under a dynamic tariff are priced with the rates published for each interval (here the announced
day-ahead rates of a dynamic time-of-use trial), exactly, and held where no rate was published."""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from billing.models import Agreement, BillRunItem, Customer, Invoice
from billing.services.bill_runs import bill_run_execute, bill_run_start
from pricing.models import Tariff
from pricing.services.dynamic import announced_rates_publish
from tests.factories.metering import half_hours, ingest, make_meter
from tests.factories.pricing import announced, make_announced_dtou_tariff

pytestmark = pytest.mark.django_db

DAY = date(2013, 1, 15)
START = datetime(2013, 1, 15, tzinfo=UTC)  # January: London is on GMT
NOW = datetime(2013, 1, 20, tzinfo=UTC)
KWH = [Decimal(f"{0.05 + 0.013 * (slot % 7):.4f}") for slot in range(48)]


@pytest.fixture
def tariff():
    return make_announced_dtou_tariff()


@pytest.fixture
def account(tariff):
    meter = make_meter("DTOU-M1", installed_at=datetime(2012, 6, 1, tzinfo=UTC))
    ingest(meter, half_hours(START - timedelta(days=1), 96, [f"{kwh}" for kwh in KWH * 2]), now=NOW)
    customer = Customer.objects.create(account_number="DTOU-0001", name="Dynamic household")
    Agreement.objects.create(
        customer=customer,
        meter_point=meter.meter_point,
        import_tariff=Tariff.objects.get(code=tariff),
        valid_from=datetime(2013, 1, 1, tzinfo=UTC),
    )
    return customer


def bill(day: date, key: str):
    run = bill_run_start(period_start=day, period_end=day + timedelta(days=1), idempotency_key=key, now=NOW)
    return bill_run_execute(bill_run_id=run.pk, now=NOW)


def test_each_interval_is_priced_at_its_published_rate(tariff, account):
    rates = announced()
    announced_rates_publish(tariff_code=tariff, day=DAY, rates=rates, now=NOW)

    run = bill(DAY, "dtou-15")

    assert (run.invoice_count, run.held_count) == (1, 0), list(run.items.values_list("reason"))
    invoice = Invoice.objects.get(customer=account)
    [line] = invoice.lines.all()
    exact = sum(kwh * rate.rate_per_kwh for kwh, rate in zip(KWH, rates, strict=True))
    assert (line.kind, line.band, line.unit_price) == ("ENERGY", "dynamic", None)  # the rate varies
    assert line.quantity == sum(KWH)
    assert line.amount == exact.quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert invoice.net_amount == line.amount


def test_a_day_without_published_rates_is_held_not_billed_at_zero(tariff, account):
    announced_rates_publish(tariff_code=tariff, day=DAY, rates=announced(), now=NOW)

    run = bill(DAY - timedelta(days=1), "dtou-14")

    assert (run.invoice_count, run.held_count) == (0, 1)
    item = BillRunItem.objects.get(bill_run=run)
    assert item.outcome == BillRunItem.Outcome.HELD
    assert "2013-01-14T00:00" in item.reason
    assert not Invoice.objects.exists()
