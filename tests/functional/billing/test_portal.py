"""The customer portal: a customer sees their own issued and void bills (page, PDF, CSV) and nobody else's."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone as django_timezone

from billing.models import Agreement, Customer, Invoice, InvoiceLine, InvoiceTax
from billing.selectors.invoice_charts import invoice_charts
from pricing.services.tariffs import tariff_create, tariff_version_publish
from tests.factories.metering import half_hours, ingest, make_meter

pytestmark = pytest.mark.django_db

JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)  # Europe/London is on UTC in January


def make_invoice(
    customer: Customer,
    number: str | None,
    *,
    status: str = Invoice.Status.ISSUED,
    period_start: date = date(2024, 1, 1),
    period_end: date = date(2024, 1, 8),
    issued_at: datetime = datetime(2024, 1, 9, tzinfo=UTC),
    lines: tuple[tuple[str, str, str, str, str, str | None, str], ...] = (
        ("ENERGY", "peak", "Energy, peak", "12.5000", "kWh", "0.300000", "3.75"),
        ("ENERGY", "off_peak", "Energy, off-peak", "40.0000", "kWh", "0.100000", "4.00"),
        ("STANDING_CHARGE", "", "Standing charge", "7.0000", "day", "0.500000", "3.50"),
    ),
) -> Invoice:
    """An invoice written straight to the database (bypassing the services), with its lines.

    Lines are added while it is a draft: on PostgreSQL a trigger refuses lines of an issued invoice."""
    net = sum((Decimal(line[6]) for line in lines), Decimal("0"))
    tax = (net * Decimal("0.05")).quantize(Decimal("0.01"))
    invoice = Invoice.objects.create(
        customer=customer,
        period_start=period_start,
        period_end=period_end,
        currency="GBP",
        net_amount=net,
        tax_amount=tax,
        total_amount=net + tax,
        readings_as_of=datetime(2024, 1, 9, tzinfo=UTC),
    )
    for kind, band, description, quantity, unit, unit_price, amount in lines:
        InvoiceLine.objects.create(
            invoice=invoice,
            kind=kind,
            band=band,
            description=description,
            quantity=Decimal(quantity),
            unit=unit,
            unit_price=None if unit_price is None else Decimal(unit_price),
            amount=Decimal(amount),
        )
    InvoiceTax.objects.create(invoice=invoice, name="VAT", rate=Decimal("0.05"), base_amount=net, amount=tax)
    if status != Invoice.Status.DRAFT:
        Invoice.objects.filter(pk=invoice.pk).update(status=status, number=number, issued_at=issued_at)
        invoice.refresh_from_db()
    return invoice


def supply(customer: Customer, serial: str, tariff_code: str) -> Agreement:
    """A meter point with a week of half-hourly readings, supplied under a TOU tariff from 2024."""
    meter = make_meter(serial)
    profile = [f"{0.1 + 0.05 * (i % 48 >= 32) + 0.01 * (i // 48):.4f}" for i in range(7 * 48)]
    ingest(meter, half_hours(JAN_1, 7 * 48, profile))
    tariff = tariff_create(code=tariff_code, name=f"Tariff {tariff_code}", direction="IMPORT")
    hours = ["off_peak"] * 16 + ["peak"] * 3 + ["off_peak"] * 5
    tariff_version_publish(
        tariff_code=tariff_code,
        valid_from=datetime(2023, 12, 1, tzinfo=UTC),
        valid_to=None,
        document={
            "format": "tariff/v1",
            "currency": "GBP",
            "timezone": "Europe/London",
            "energy": {
                "kind": "tou",
                "rates_per_kwh": {"off_peak": "0.1000", "peak": "0.3000"},
                "weekday": hours,
                "weekend": hours,
            },
        },
        now=django_timezone.now(),
    )
    return Agreement.objects.create(
        customer=customer,
        meter_point=meter.meter_point,
        import_tariff=tariff,
        valid_from=datetime(2023, 12, 1, tzinfo=UTC),
    )


@pytest.fixture
def bills(customer_a, customer_b):
    """A: two issued bills and a void one, plus a draft; B: one issued bill."""
    return {
        "a": make_invoice(customer_a, "INV-000101"),
        "a_older": make_invoice(
            customer_a, "INV-000042", period_start=date(2023, 12, 1), period_end=date(2024, 1, 1)
        ),
        "a_void": make_invoice(
            customer_a,
            "INV-000050",
            status=Invoice.Status.VOID,
            period_start=date(2023, 11, 1),
            period_end=date(2023, 12, 1),
        ),
        "a_draft": make_invoice(
            customer_a,
            None,
            status=Invoice.Status.DRAFT,
            period_start=date(2024, 2, 1),
            period_end=date(2024, 3, 1),
        ),
        "b": make_invoice(
            customer_b,
            "INV-000102",
            lines=(("ENERGY", "flat", "Bob's secret energy", "99.0000", "kWh", "0.250000", "24.75"),),
        ),
    }


@pytest.fixture
def alice(client, customer_a):
    client.force_login(customer_a.user)
    return client


def test_the_home_page_lists_the_customers_issued_and_void_bills_newest_first(alice, bills):
    response = alice.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("INV-000101") < html.index("INV-000042") < html.index("INV-000050")
    assert "INV-000102" not in html
    assert "Void" in html
    assert str(bills["a"].total_amount) in html
    assert "/bills/INV-000101/" in html


def test_a_draft_is_not_shown_to_the_customer(alice, bills):
    html = alice.get("/").content.decode()

    assert "draft" not in html.lower()
    assert "2024-02" not in html
    assert "1 Feb 2024" not in html
    assert alice.get(f"/bills/{bills['a_draft'].pk}/").status_code == 404
    assert alice.get("/bills/None/").status_code == 404


def test_a_bill_page_shows_its_lines_totals_charts_and_pdf_link(alice, bills):
    response = alice.get("/bills/INV-000101/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Energy, off-peak" in html
    assert "Standing charge" in html
    assert "30.00p/kWh" in html  # unit prices in pence per kWh
    assert "40.00 kWh" in html
    assert '<td class="num" id="net-amount">£11.25</td>' in html
    assert "<strong>£11.81</strong>" in html
    assert 'VAT at 5% of £11.25</th><td class="rate-col"></td><td class="num">£0.56</td>' in html
    assert html.count("<svg") == 2
    assert "No meter readings for this period." in html  # no agreement: the charts say so
    assert 'href="/bills/INV-000101.pdf"' in html


def test_a_bill_page_charts_the_consumption_per_day_and_the_price_per_interval(alice, customer_a):
    supply(customer_a, "M-A1", "TOU-A")
    make_invoice(customer_a, "INV-000200")

    response = alice.get("/bills/INV-000200/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="bar"') == 7
    assert "07 Jan 2024: 8.4800 kWh" in html  # 32 x 0.16 + 16 x 0.21 on the seventh day
    assert 'id="rate-chart"' in html
    assert "<polyline" in html


def test_the_chart_data_follow_the_readings_and_the_tariff(customer_a):
    supply(customer_a, "M-A1", "TOU-A")
    invoice = make_invoice(customer_a, "INV-000200")

    charts = invoice_charts(invoice=invoice)

    assert [d.day for d in charts.daily_usage] == [date(2024, 1, d) for d in range(1, 8)]
    assert charts.daily_usage[0].energy_kwh == Decimal("5.6000")  # 32 x 0.10 + 16 x 0.15
    assert len(charts.unit_rates) == 7 * 48
    assert {r.unit_rate_per_kwh for r in charts.unit_rates} == {Decimal("0.1"), Decimal("0.3")}
    assert charts.timezone == "Europe/London"


def test_another_accounts_bill_and_pdf_are_not_found(alice, bills):
    assert alice.get("/bills/INV-000102/").status_code == 404
    assert alice.get("/bills/INV-000102.pdf").status_code == 404
    assert alice.get("/bills/INV-999999/").status_code == 404


def test_the_pdf_is_a_pdf_naming_the_invoice(alice, bills):
    response = alice.get("/bills/INV-000101.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="invoice-INV-000101.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert b"INV-000101" in response.content


def test_the_pdf_draws_its_charts_with_readings_and_rates(alice, customer_a):
    supply(customer_a, "M-A1", "TOU-A")
    make_invoice(customer_a, "INV-000200")

    response = alice.get("/bills/INV-000200.pdf")

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert b"INV-000200" in response.content


def test_the_csv_export_has_only_the_customers_visible_bills_and_lines(alice, bills):
    response = alice.get("/bills.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="bills-ACC-A.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["account_number"] for r in rows} == {"ACC-A"}
    assert {r["invoice_number"] for r in rows} == {"INV-000101", "INV-000042", "INV-000050"}
    assert len(rows) == 9 + 3  # lines, then a TAX row per invoice
    assert "Bob's secret energy" not in response.content.decode()
    first = next(r for r in rows if r["invoice_number"] == "INV-000101" and r["band"] == "peak")
    assert first["quantity"] == "12.5000"
    assert first["unit_price"] == "0.300000"
    assert first["amount"] == "3.75"
    assert first["total_amount"] == str(bills["a"].total_amount)
    tax = next(r for r in rows if r["invoice_number"] == "INV-000101" and r["line_kind"] == "TAX")
    assert (tax["band"], tax["quantity"], tax["unit"], tax["unit_price"], tax["amount"]) == (
        "VAT",
        "11.25",
        "GBP",
        "0.050000",
        "0.56",
    )
    for number in ("INV-000101", "INV-000042", "INV-000050"):  # each invoice's rows add up to its total
        own = [r for r in rows if r["invoice_number"] == number]
        assert sum(Decimal(r["amount"]) for r in own) == Decimal(own[0]["total_amount"])


def test_the_csv_keeps_spreadsheets_from_running_a_description(alice, customer_a):
    make_invoice(
        customer_a, "INV-000300", lines=(("ADJUSTMENT", "", "=HYPERLINK(1)", "1", "each", None, "-1.00"),)
    )

    rows = list(csv.DictReader(io.StringIO(alice.get("/bills.csv").content.decode())))

    assert rows[0]["description"] == "'=HYPERLINK(1)"
    assert rows[0]["amount"] == "-1.00"
    assert rows[0]["unit_price"] == ""


def test_the_portal_needs_a_login(client, bills):
    for url in ("/", "/bills/INV-000101/", "/bills/INV-000101.pdf", "/bills.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_a_login_without_an_account_sees_no_bills(client, staff, bills):
    client.force_login(staff)

    assert "not linked" in client.get("/").content.decode()
    assert client.get("/bills/INV-000101/").status_code == 404
    assert client.get("/bills.csv").status_code == 404
