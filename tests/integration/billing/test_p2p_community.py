"""A feeder community trading peer to peer: settlement lines on each party's bill add up to the fees only;
hand-computed bills with and without P2P."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.models import Agreement, Customer
from billing.services.p2p import p2p_community_compute
from metering.services.meters import meter_install
from pricing.models import Tariff
from pricing.services.tariffs import tariff_version_publish
from tests.factories.metering import NOW, half_hours, ingest, make_meter

D = Decimal
DAY = datetime(2024, 1, 15, tzinfo=UTC)  # GMT


def tariff(code, rate, direction="IMPORT"):
    row = Tariff.objects.create(code=code, name=code, direction=direction)
    tariff_version_publish(
        tariff_code=code,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_to=None,
        document={"format": "tariff/v1", "currency": "GBP", "timezone": "Europe/London",
                  "energy": {"kind": "flat", "rate_per_kwh": rate}},
        now=NOW,
    )  # fmt: skip
    return row


@pytest.fixture
def community():
    retail, export = tariff("RETAIL", "0.25"), tariff("EXPORT", "0.05", "EXPORT")
    for name in ("A", "B", "C"):
        meter = make_meter(f"P2P-{name}", feeder="P2P1")
        customer = Customer.objects.create(account_number=f"P2P-{name}", name=name)
        Agreement.objects.create(
            customer=customer,
            meter_point=meter.meter_point,
            import_tariff=retail,
            export_tariff=export if name == "A" else None,
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
        sunny = range(20, 28)  # 10:00-14:00: A exports 0.3 kWh a half-hour and imports nothing
        ingest(meter, half_hours(DAY, 48, ["0" if name == "A" and i in sunny else "0.1" for i in range(48)]))
        if name == "A":
            exporter = meter_install(
                meter_point_identifier=meter.meter_point.identifier,
                serial="P2P-A-EXP",
                direction="EXPORT",
                installed_at=datetime(2020, 1, 1, tzinfo=UTC),
                resolution_minutes=30,
            )
            ingest(exporter, half_hours(DAY, 48, ["0.3" if i in sunny else "0" for i in range(48)]))


@pytest.mark.django_db
def test_p2p_settlement_adds_up_to_the_fees_and_buyers_pay_less(community):
    result = p2p_community_compute(
        feeder_code="P2P1",
        period_start=date(2024, 1, 15),
        period_end=date(2024, 1, 16),
        fee_per_kwh=D("0.02"),
    )

    # 2.4 kWh of surplus against 1.6 kWh of demand in the sunny hours: excess supply clears at the export rate
    assert (result.traded_kwh, result.imported_kwh) == (D("1.6000"), D("13.6000"))
    assert result.purchases + result.sales == 0
    assert (result.purchases, result.fees) == (D("0.08"), D("0.04"))
    totals = {n: (result.without[n].total, result.with_p2p[n].total) for n in result.with_p2p}
    assert totals == {
        "P2P-A": (D("0.88"), D("0.88")),  # 1.00 import − 0.12 export  /  1.00 − 0.04 export − 0.08 P2P sale
        "P2P-B": (D("1.20"), D("1.06")),  # 4.8 kWh × 0.25  /  4.0 kWh × 0.25 + 0.04 purchase + 0.02 fee
        "P2P-C": (D("1.20"), D("1.06")),
    }
    community_without = sum(t for t, _ in totals.values())
    community_with = sum(t for _, t in totals.values())
    assert community_without - community_with == D(
        "0.28"
    )  # each buyer saves 0.14; the seller gets 0.05 either way
    lines_b = [(line.kind, line.quantity, line.amount) for line in result.with_p2p["P2P-B"].lines]
    assert lines_b == [
        ("ENERGY", D("4.0000"), D("1.00")),
        ("P2P_PURCHASE", D("0.8000"), D("0.04")),
        ("P2P_FEE", D("0.8000"), D("0.02")),
    ]
    assert [(line.kind, line.amount) for line in result.with_p2p["P2P-A"].lines][-1] == (
        "P2P_SALE",
        D("-0.08"),
    )
    assert result.self_sufficiency_with == pytest.approx(1.6 / 13.6)
    assert (result.summary_with.winners, result.summary_with.losers) == (2, 0)


@pytest.mark.django_db
def test_p2p_invoices_carry_the_settlement_lines_and_are_written_once(community):
    from billing.models import Invoice, InvoiceLine
    from billing.services.p2p import p2p_invoices_create

    kwargs = {
        "feeder_code": "P2P1",
        "period_start": date(2024, 1, 15),
        "period_end": date(2024, 1, 16),
        "fee_per_kwh": D("0.02"),
        "now": NOW,
    }
    first = p2p_invoices_create(**kwargs)
    again = p2p_invoices_create(**kwargs)

    assert (first.invoiced, again.invoiced) == (["P2P-A", "P2P-B", "P2P-C"], [])
    settlement = InvoiceLine.objects.filter(kind__in=["P2P_PURCHASE", "P2P_SALE"])
    assert sum(settlement.values_list("amount", flat=True)) == 0
    assert Invoice.objects.get(customer__account_number="P2P-B").total_amount == D("1.06")
