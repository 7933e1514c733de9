"""The account page and a bill in headless Chromium (Playwright): they fit a 390-px phone, and axe-core finds
no serious or critical accessibility violation. Screenshots (desktop and phone) go to test-artifacts/.

axe-core is vendored (tests/vendor/axe-core, MPL-2.0) and injected into the page; nothing is downloaded.
"""

import json
from pathlib import Path

import pytest

from tests.functional.billing.account_data import live_account
from tests.functional.billing.test_portal_browser import (  # noqa: F401 - the sync_playwright fixture
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    sync_playwright,
)

AXE = Path(__file__).resolve().parents[2] / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page (WCAG 2.x A/AA rules and best practices)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
            v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))"""
    )


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in SERIOUS]


def test_the_account_page_and_a_bill_are_accessible_and_fit_a_phone(
    live_server,
    sync_playwright,  # noqa: F811 - the fixture imported above
    customer_a,
):
    account = live_account(customer_a)  # all database work before the browser starts
    ARTIFACTS.mkdir(exist_ok=True)
    found: dict[str, list[dict]] = {}
    widths: dict[str, int] = {}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page = browser.new_page(viewport=viewport)
                page.goto(f"{live_server.url}/login/")
                page.fill("#id_username", "alice")
                page.fill("#id_password", "pw-for-tests")
                page.click("button[type=submit]")
                page.wait_for_selector("#tariff")
                tariff = page.inner_text("#tariff")
                balance = page.inner_text("#balance")
                projection = page.inner_text("#projection")
                bars = page.locator("svg#daily-chart rect.bar").count()
                estimated_bars = page.locator("svg#daily-chart rect.bar.estimated").count()
                half_hours = page.locator("svg#half-hour-chart rect.bar").count()
                widths[f"account-{name}"] = page.evaluate("document.documentElement.scrollWidth")
                page.screenshot(path=str(ARTIFACTS / f"portal-account-{name}.png"), full_page=True)
                found[f"account-{name}"] = axe_violations(page)

                page.click("text=INV-LIVE-1")
                page.wait_for_selector("#lines")
                widths[f"bill-{name}"] = page.evaluate("document.documentElement.scrollWidth")
                chart_width = page.evaluate(
                    "document.querySelector('#usage-chart').getBoundingClientRect().width"
                )
                page.screenshot(path=str(ARTIFACTS / f"portal-bill-{name}.png"), full_page=True)
                found[f"bill-{name}"] = axe_violations(page)
                page.close()
        finally:
            browser.close()

    (ARTIFACTS / "axe-portal.json").write_text(json.dumps(found, indent=2))
    assert {page: serious(v) for page, v in found.items()} == {page: [] for page in found}
    assert widths["account-phone"] <= PHONE["width"]  # nothing scrolls sideways on a phone
    assert widths["bill-phone"] <= PHONE["width"]
    assert chart_width <= PHONE["width"]  # the last page measured was the phone's bill
    assert "Live ToU" in tariff
    assert balance == "£11.81"
    assert "£" in projection
    assert " to " in projection
    assert 30 <= bars <= 32
    assert estimated_bars == 1
    assert half_hours in (46, 48, 50)
    for name in ("account-desktop", "account-phone", "bill-desktop", "bill-phone"):
        assert (ARTIFACTS / f"portal-{name}.png").stat().st_size > 10_000
    assert account.mpan
