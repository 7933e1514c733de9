"""A rendered bill (portal page, PDF) carries what a UK supplier's bill does: supplier name, address and VAT
number; the customer's name and supply address; the MPAN; the tariff; unit rates and standing charge with
every line's rate; consumption with estimated days marked; issue date, due date and payment terms; previous
balance, payments received and balance due. A dynamic line shows its average rate and its bands."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.exports import formatting as fmt
from billing.models import Agreement, Customer, Invoice
from billing.selectors.bill_document import bill_document
from billing.services.bill_runs import bill_run_execute, bill_run_start
from billing.services.invoices import invoice_issue, invoice_void
from metering.models import Quality, Reading
from pricing.models import Tariff
from pricing.services.dynamic import announced_rates_publish
from tests.factories.metering import half_hours, ingest, make_meter
from tests.factories.pricing import BANDS, announced, make_announced_dtou_tariff
from tests.functional.billing.pdf_text import pdf_text
from tests.functional.billing.test_portal import make_invoice, supply

pytestmark = pytest.mark.django_db

SUPPLIER = {
    "SUPPLIER_NAME": "Kite Energy Ltd",
    "SUPPLIER_ADDRESS": "4 Wharf Road\nBristol BS1 4RN",
    "SUPPLIER_VAT_NUMBER": "GB 987 6543 21",
    "BILLING_PAYMENT_TERMS_DAYS": 14,
}


def text_of(html: str) -> str:
    """The page's text with tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def billed_account(customer_a):
    """Alice: a week of readings (3 Jan estimated) under a TOU tariff; a December bill issued on 2 Jan and
    voided on 5 Jan (credit note), then the January week's bill issued on 9 Jan."""
    Customer.objects.filter(pk=customer_a.pk).update(address="12 Acacia Avenue\nLeeds LS1 1AA")
    customer_a.refresh_from_db()
    supply(customer_a, "M-A1", "TOU-A")
    Reading.objects.filter(
        interval_start__gte=datetime(2024, 1, 3, tzinfo=UTC),
        interval_start__lt=datetime(2024, 1, 3, 2, tzinfo=UTC),
    ).update(quality=Quality.ESTIMATED)
    make_invoice(
        customer_a,
        "INV-000042",
        period_start=date(2023, 12, 1),
        period_end=date(2024, 1, 1),
        issued_at=datetime(2024, 1, 2, 9, tzinfo=UTC),
    )
    invoice_void(number="INV-000042", reason="Wrong meter", now=datetime(2024, 1, 5, tzinfo=UTC))
    return make_invoice(customer_a, "INV-000101")


@override_settings(**SUPPLIER)
def test_the_bill_page_carries_every_item_of_a_uk_bill(client, customer_a, billed_account):
    client.force_login(customer_a.user)

    response = client.get("/bills/INV-000101/")

    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    # supplier
    assert "Kite Energy Ltd" in text
    assert "4 Wharf Road" in text
    assert "Bristol BS1 4RN" in text
    assert 'VAT number <span id="vat-number">GB 987 6543 21</span>' in html
    # customer, supply point, tariff
    assert '<strong id="customer-name">Alice Able</strong>' in html
    assert '<address id="supply-address">12 Acacia Avenue\nLeeds LS1 1AA</address>' in html
    assert '<dd class="mpan">MP-M-A1</dd>' in html
    assert '<dd class="tariff-name">Tariff TOU-A</dd>' in html
    # the period one way, dates, terms
    assert '<dd id="bill-period">1\u2009–\u20097 Jan 2024</dd>' in html
    assert '<dd id="issue-date">9 Jan 2024</dd>' in html
    assert '<dd id="due-date">23 Jan 2024</dd>' in html
    assert '<dd id="payment-terms">14 days from the issue date</dd>' in html
    # every line with its rate, in pence; amounts in pounds
    assert re.search(r"Energy, peak.*?12\.50 kWh.*?30\.00p/kWh.*?£3\.75", text)
    assert re.search(r"Energy, off-peak.*?40\.00 kWh.*?10\.00p/kWh.*?£4\.00", text)
    assert re.search(r"Standing charge.*?7 days.*?50\.00p/day.*?£3\.50", text)
    assert "VAT at 5% of £11.25 £0.56" in text
    assert '<td class="num" id="invoice-total"><strong>£11.81</strong></td>' in html
    # the account: the December bill (£11.81) was credited in full before this one
    assert '<td class="num" id="previous-balance">£11.81</td>' in html
    assert '<td class="num" id="payments-received">£0.00</td>' in html
    assert '<td class="num" id="other-credits">-£11.81</td>' in html
    assert '<td class="num" id="this-bill">£11.81</td>' in html
    assert "<strong>£11.81</strong>" in html.split('id="balance-due"')[1][:40]
    # consumption, the estimated day marked (in the list and on the chart)
    assert '<strong id="total-kwh">49.28 kWh</strong>' in html  # day d: 5.6 + 0.48 d kWh, d = 0..6
    assert 'id="estimated-days"><li>3 Jan 2024</li></ul>' in html
    assert html.count('class="bar estimated"') == 1
    assert "03 Jan 2024: 6.5600 kWh (estimated)" in html


@override_settings(**SUPPLIER)
def test_the_pdf_carries_the_supplier_mpan_tariff_dates_and_balances(client, customer_a, billed_account):
    client.force_login(customer_a.user)

    text = pdf_text(client.get("/bills/INV-000101.pdf").content)

    for expected in (
        "Kite Energy Ltd",
        "VAT number GB 987 6543 21",
        "Alice Able",
        "12 Acacia Avenue",
        "MP-M-A1",
        "Tariff TOU-A",
        "9 Jan 2024",
        "23 Jan 2024",
        "14 days from the issue date",
        "30.00p/kWh",
        "50.00p/day",
        "Previous balance",
        "Payments received",
        "Balance due by 23 Jan 2024",
        "Energy, peak",
        "were estimated",
        "\xa311.81",  # £ in the PDF's WinAnsi encoding
    ):
        assert expected in text, (expected, text)
    assert "1 Jan" in text
    assert "7 Jan" in text


def test_the_bill_document_gives_the_account_position_from_the_statement(billed_account):
    bill = bill_document(invoice=billed_account)

    assert bill.position.previous_balance == Decimal("11.81")
    assert bill.position.payments_received == Decimal("0.00")
    assert bill.position.other_credits == Decimal("-11.81")
    assert bill.position.balance_due == Decimal("11.81")
    assert bill.due_date == date(2024, 1, 23)
    assert [p.mpan for p in bill.supply_points] == ["MP-M-A1"]
    assert bill.estimated_days == [date(2024, 1, 3)]


def test_a_dynamic_line_shows_its_average_rate_and_the_announced_bands_beneath(client, customer_a):
    code = make_announced_dtou_tariff()
    meter = make_meter("DTOU-M1", installed_at=datetime(2012, 6, 1, tzinfo=UTC))
    start = datetime(2013, 1, 15, tzinfo=UTC)
    ingest(meter, half_hours(start, 48, "0.5000"), now=datetime(2013, 1, 20, tzinfo=UTC))
    Agreement.objects.create(
        customer=customer_a,
        meter_point=meter.meter_point,
        import_tariff=Tariff.objects.get(code=code),
        valid_from=datetime(2013, 1, 1, tzinfo=UTC),
    )
    announced_rates_publish(tariff_code=code, day=date(2013, 1, 15), rates=announced(), now=start)
    now = datetime(2013, 1, 20, tzinfo=UTC)
    run = bill_run_start(
        period_start=date(2013, 1, 15), period_end=date(2013, 1, 16), idempotency_key="dyn", now=now
    )
    bill_run_execute(bill_run_id=run.pk, now=now)
    draft = Invoice.objects.get(customer=customer_a)
    invoice = invoice_issue(number=f"DRAFT-{draft.pk}", now=now)
    client.force_login(customer_a.user)

    html = client.get(f"/bills/{invoice.number}/").content.decode()
    text = text_of(html)

    # 8 Low, 4 High and 36 Normal half-hours of 0.5 kWh each
    low, normal, high = (BANDS[b] * 100 for b in ("Low", "Normal", "High"))
    assert re.search(rf"Low [^£]*4\.00 kWh {low:.2f}p/kWh £0\.16", text)
    assert re.search(rf"Normal [^£]*18\.00 kWh {normal:.2f}p/kWh £2\.12", text)
    assert re.search(rf"High [^£]*2\.00 kWh {high:.2f}p/kWh £1\.34", text)
    [line] = invoice.lines.all()
    assert (line.unit_price, line.quantity) == (None, Decimal("24.0000"))
    assert f"avg {fmt.pence_per_kwh(line.amount / line.quantity)}" in text  # the line's average rate
    assert fmt.pence_per_kwh(line.amount / line.quantity) == "15.083p/kWh"  # £3.62 / 24 kWh
    assert html.index("Low") < html.index("Normal") < html.index("High")


BILL_QUERY = """query($n: String!) { invoice(number: $n) { number bill {
  supplier { name address vatNumber } supplyPoints { mpan tariffCode tariffName }
  issueDate dueDate paymentTermsDays previousBalance paymentsReceived otherCredits balanceDue } } }"""


@override_settings(**SUPPLIER)
def test_the_api_renders_the_bill_content_too(gql_as, staff, customer_a, customer_b, billed_account):
    result = gql_as(customer_a.user)(BILL_QUERY, {"n": "INV-000101"})
    other = gql_as(customer_b.user)(BILL_QUERY, {"n": "INV-000101"})

    assert "errors" not in result, result
    assert result["data"]["invoice"]["bill"] == {
        "supplier": {
            "name": "Kite Energy Ltd",
            "address": "4 Wharf Road\nBristol BS1 4RN",
            "vatNumber": "GB 987 6543 21",
        },
        "supplyPoints": [{"mpan": "MP-M-A1", "tariffCode": "TOU-A", "tariffName": "Tariff TOU-A"}],
        "issueDate": "2024-01-09",
        "dueDate": "2024-01-23",
        "paymentTermsDays": 14,
        "previousBalance": "11.81",
        "paymentsReceived": "0.00",
        "otherCredits": "-11.81",
        "balanceDue": "11.81",
    }
    assert other["data"]["invoice"] is None  # another account's bill is absent
