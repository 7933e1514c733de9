"""Invoices over GraphQL for integrations: the signed expiring PDF link, filters and ordering, a line's
`estimated` flag from the bill writer, a re-bill's links both ways, and billRun items with held reasons."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.core import signing
from django.test import Client

from billing.models import Invoice, InvoiceLine
from metering.models import Quality
from tests.functional.billing.test_invoice_lifecycle import make_invoice
from tests.integration.billing.test_bill_runs import (
    OCT_FROM,
    OCT_HALF_HOURS,
    ingest_bulk,
    make_accounts,
    make_tariff,
    start_and_execute,
)

pytestmark = pytest.mark.django_db

PDF_URL = """query($n: String!) { invoice(number: $n) { number pdfUrl pdfUrlMaxAge } }"""
LIST = """query($filter: InvoiceFilter, $ordering: [InvoiceOrdering!]) {
  invoices(first: 50, filter: $filter, ordering: $ordering) { totalCount edges { node { number } } } }"""
LINKS = """query($n: String!) { invoice(number: $n) { number status
  replaces { number status } replacedBy { number status } } }"""
LINES = """query($n: String!) { invoice(number: $n) { lines { kind estimated quantity } } }"""


@pytest.fixture
def reader(gql_as, make_token):
    return gql_as(make_token("billing:read"))


@pytest.fixture
def issued(customer_a):
    return make_invoice(customer_a, month=1, status=Invoice.Status.ISSUED, number="INV-00000777")


def _path(url: str) -> str:
    return urlparse(url).path


# --- the signed PDF link -----------------------------------------------------------------------------------


def test_pdf_url_serves_the_pdf_without_other_credentials(issued, reader):
    data = reader(PDF_URL, {"n": "INV-00000777"})["data"]["invoice"]

    response = Client().get(_path(data["pdfUrl"]))

    assert data["pdfUrl"].startswith("http://testserver/api/invoices/pdf/")
    assert data["pdfUrlMaxAge"] == 900
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Cache-Control"] == "private, no-store"


def test_an_expired_pdf_url_is_refused(issued, reader, settings, monkeypatch):
    settings.INVOICE_PDF_URL_MAX_AGE = 60
    signed_at = 1_772_359_200.0  # 2026-03-01T10:00:00Z
    monkeypatch.setattr(signing.time, "time", lambda: signed_at)
    url = reader(PDF_URL, {"n": "INV-00000777"})["data"]["invoice"]["pdfUrl"]
    monkeypatch.setattr(signing.time, "time", lambda: signed_at + 59)
    fresh = Client().get(_path(url))
    monkeypatch.setattr(signing.time, "time", lambda: signed_at + 61)
    expired = Client().get(_path(url))

    assert fresh.status_code == 200
    assert expired.status_code == 410
    assert b"expired" in expired.content


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token.replace(token.split(":")[0], str(int(token.split(":")[0]) + 1), 1),
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "12:abc",
    ],
)
def test_a_tampered_pdf_url_is_refused(issued, customer_b, reader, tamper):
    make_invoice(customer_b, month=1, status=Invoice.Status.ISSUED, number="INV-00000778")
    url = reader(PDF_URL, {"n": "INV-00000777"})["data"]["invoice"]["pdfUrl"]
    token = _path(url).rsplit("/", 1)[1]

    response = Client().get(f"/api/invoices/pdf/{tamper(token)}")

    assert response.status_code == 403


def test_a_customer_gets_a_pdf_url_only_for_their_own_invoices(issued, customer_b, gql_as):
    own = gql_as(issued.customer.user)(PDF_URL, {"n": "INV-00000777"})
    other = gql_as(customer_b.user)(PDF_URL, {"n": "INV-00000777"})

    assert Client().get(_path(own["data"]["invoice"]["pdfUrl"])).status_code == 200
    assert other["data"]["invoice"] is None
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"


# --- filters and ordering ----------------------------------------------------------------------------------


@pytest.fixture
def ledger(customer_a, customer_b):
    """A: Jan issued (10 Feb), Feb issued (10 Mar), Mar draft; B: Jan void (12 Feb), Feb issued (5 Mar)."""
    made = {}
    for customer, month, status, number, issued_at in (
        (customer_a, 1, "ISSUED", "INV-A1", datetime(2026, 2, 10, tzinfo=UTC)),
        (customer_a, 2, "ISSUED", "INV-A2", datetime(2026, 3, 10, tzinfo=UTC)),
        (customer_a, 3, "DRAFT", None, None),
        (customer_b, 1, "VOID", "INV-B1", datetime(2026, 2, 12, tzinfo=UTC)),
        (customer_b, 2, "ISSUED", "INV-B2", datetime(2026, 3, 5, tzinfo=UTC)),
    ):
        invoice = make_invoice(customer, month=month, lines=month)
        Invoice.objects.filter(pk=invoice.pk).update(status=status, number=number, issued_at=issued_at)
        made[number or "draft"] = invoice
    return made


def _numbers(result: dict) -> list[str]:
    return [edge["node"]["number"] for edge in result["data"]["invoices"]["edges"]]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"status": ["ISSUED"]}, ["INV-B2", "INV-A2", "INV-A1"]),
        ({"status": ["ISSUED", "VOID"], "accountNumber": "ACC-B"}, ["INV-B2", "INV-B1"]),
        ({"period": {"from": "2026-02-01", "to": "2026-03-01"}}, ["INV-B2", "INV-A2"]),
        ({"period": {"from": "2026-02-15"}}, ["draft", "INV-B2", "INV-A2"]),
        ({"issued": {"from": "2026-02-11T00:00:00Z", "to": "2026-03-10T00:00:00Z"}}, ["INV-B2", "INV-B1"]),
        ({"accountNumber": "ACC-A", "issued": {"to": "2026-03-01T00:00:00Z"}}, ["INV-A1"]),
    ],
)
def test_invoices_are_filtered(ledger, reader, filter_, expected):
    result = reader(LIST, {"filter": filter_})

    wanted = [f"DRAFT-{ledger['draft'].pk}" if n == "draft" else n for n in expected]
    assert _numbers(result) == wanted
    assert result["data"]["invoices"]["totalCount"] == len(wanted)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ([{"field": "ISSUED_AT", "direction": "ASC"}], ["INV-A1", "INV-B1", "INV-B2", "INV-A2"]),
        ([{"field": "TOTAL_AMOUNT", "direction": "DESC"}, {"field": "NUMBER"}],
         ["INV-A2", "INV-B2", "INV-A1", "INV-B1"]),
        ([{"field": "ACCOUNT_NUMBER", "direction": "DESC"}, {"field": "PERIOD_START", "direction": "DESC"}],
         ["INV-B2", "INV-B1", "INV-A2", "INV-A1"]),
    ],
)  # fmt: skip
def test_invoices_are_ordered(ledger, reader, ordering, expected):
    result = reader(LIST, {"filter": {"status": ["ISSUED", "VOID"]}, "ordering": ordering})

    assert _numbers(result) == expected


def test_a_customer_filters_only_their_own_invoices(ledger, gql_as, customer_a):
    result = gql_as(customer_a.user)(LIST, {"filter": {"accountNumber": "ACC-B"}})
    own = gql_as(customer_a.user)(LIST, {"filter": {"status": ["DRAFT", "ISSUED"]}})

    assert _numbers(result) == []
    assert _numbers(own) == ["INV-A2", "INV-A1"]


# --- re-bill links -----------------------------------------------------------------------------------------


def test_a_rebill_links_to_the_invoice_it_replaces_and_back(customer_a, reader, gql_as):
    old = make_invoice(customer_a, month=1, status=Invoice.Status.VOID, number="INV-OLD")
    new = make_invoice(customer_a, month=1)
    new.replaces = old
    new.save(update_fields=["replaces"])
    Invoice.objects.filter(pk=new.pk).update(status="ISSUED", number="INV-NEW", issued_at=old.issued_at)

    forward = reader(LINKS, {"n": "INV-NEW"})["data"]["invoice"]
    backward = reader(LINKS, {"n": "INV-OLD"})["data"]["invoice"]

    assert forward == {
        "number": "INV-NEW",
        "status": "ISSUED",
        "replaces": {"number": "INV-OLD", "status": "VOID"},
        "replacedBy": None,
    }
    assert backward["replacedBy"] == {"number": "INV-NEW", "status": "ISSUED"}
    assert backward["replaces"] is None


def test_a_customer_does_not_see_a_draft_rebill(customer_a, gql_as):
    old = make_invoice(customer_a, month=1, status=Invoice.Status.VOID, number="INV-OLD")
    draft = make_invoice(customer_a, month=1)
    draft.replaces = old
    draft.save(update_fields=["replaces"])

    seen = gql_as(customer_a.user)(LINKS, {"n": "INV-OLD"})["data"]["invoice"]

    assert seen["replacedBy"] is None


# --- estimated lines, from a real bill run ---------------------------------------------------------------


@pytest.mark.parametrize("quality", [Quality.ESTIMATED, Quality.SUBSTITUTED])
def test_a_line_is_estimated_when_a_reading_in_its_period_was_not_actual(reader, quality):
    tariff = make_tariff()
    (actual, guessed), meters = make_accounts(tariff, 2, intervals=0)
    ingest_bulk([meters[0]], OCT_FROM, OCT_HALF_HOURS, 1000)
    ingest_bulk([meters[1]], OCT_FROM, OCT_HALF_HOURS - 1, 1000)
    ingest_bulk(
        [meters[1]], OCT_FROM + timedelta(minutes=30 * (OCT_HALF_HOURS - 1)), 1, 1000, quality=quality
    )
    start_and_execute()

    def lines(customer):
        invoice = Invoice.objects.get(customer=customer)
        return reader(LINES, {"n": f"DRAFT-{invoice.pk}"})["data"]["invoice"]["lines"]

    assert [(line["kind"], line["estimated"]) for line in lines(guessed)] == [
        ("ENERGY", True),
        ("STANDING_CHARGE", False),
    ]
    assert [(line["kind"], line["estimated"]) for line in lines(actual)] == [
        ("ENERGY", False),
        ("STANDING_CHARGE", False),
    ]
    assert InvoiceLine.objects.get(invoice__customer=guessed, kind="ENERGY").quantity == Decimal("149.0000")
    assert date(2024, 10, 1) == Invoice.objects.get(customer=guessed).period_start
