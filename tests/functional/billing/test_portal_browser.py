"""The portal in a real browser (headless Chromium via Playwright) against the live test server.

Needs the Debian `chromium` package (/usr/bin/chromium) and the `playwright` Python package; Playwright's own
browser download is never used. Skipped without Chromium, unless REQUIRE_SERVICES=1 (CI): then it fails.
"""

import os
from pathlib import Path

import pytest

from tests.functional.billing.test_portal import make_invoice, supply

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sync_playwright():
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            missing = "the playwright package is missing (uv sync --group dev)"
    if missing:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {missing}")
        pytest.skip(missing)
    return sync_playwright


def test_a_customer_signs_in_opens_a_bill_with_charts_and_cannot_open_another(
    live_server, sync_playwright, customer_a, customer_b
):
    # All database work happens before the browser starts: Playwright's sync API runs an event loop here.
    supply(customer_a, "M-A1", "TOU-A")
    make_invoice(customer_a, "INV-000101")
    make_invoice(customer_b, "INV-000102")
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{live_server.url}/login/")
            page.fill("#id_username", "alice")
            page.fill("#id_password", "pw-for-tests")
            page.click("button[type=submit]")
            page.wait_for_selector("#bills")

            bill_list = page.inner_text("#bills")
            page.click("text=INV-000101")
            page.wait_for_selector("#lines")
            lines = page.inner_text("#lines")
            usage_bars = page.locator("svg#usage-chart rect.bar").count()
            rate_lines = page.locator("svg#rate-chart polyline").count()
            pdf_link = page.get_attribute("#bill-pdf", "href")
            page.screenshot(path=str(ARTIFACTS / "portal-bill.png"), full_page=True)

            other = page.goto(f"{live_server.url}/bills/INV-000102/")
            other_pdf = page.goto(f"{live_server.url}/bills/INV-000102.pdf")
            other_status, other_pdf_status = other.status, other_pdf.status
        finally:
            browser.close()

    assert "INV-000101" in bill_list
    assert "INV-000102" not in bill_list
    assert "Energy, off-peak" in lines
    assert "Standing charge" in lines
    assert usage_bars == 7
    assert rate_lines == 1
    assert pdf_link == "/bills/INV-000101.pdf"
    assert other_status == 404
    assert other_pdf_status == 404
    assert (ARTIFACTS / "portal-bill.png").stat().st_size > 10_000
