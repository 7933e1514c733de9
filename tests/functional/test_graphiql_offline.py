"""GraphiQL loads its scripts and styles from the project's static files, so it works offline."""

import re

import pytest
from django.contrib.staticfiles import finders

from tests.functional.billing.test_portal_browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright  # noqa: F401

pytestmark = pytest.mark.django_db


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_graphiql_references_only_local_static_files(client, staff):
    """RELIABILITY check 6 (IDE only for staff) and the staff fix of issue 10: no CDN, every asset is a
    static file the project ships."""
    client.force_login(staff)

    page = client.get("/graphql/", headers={"Accept": "text/html"})

    html = page.content.decode()
    assets = _assets(html)
    assert page.status_code == 200
    assert "unpkg" not in html
    assert "jsdelivr" not in html
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    }
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_graphiql_renders_with_every_outside_request_blocked(live_server, staff, sync_playwright):  # noqa: F811
    outside: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()

            def route(r):
                if r.request.url.startswith(live_server.url):
                    return r.continue_()
                outside.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.goto(f"{live_server.url}/admin/login/?next=/graphql/")
            page.fill("#id_username", "staff-user")
            page.fill("#id_password", "pw-for-tests")
            page.click("input[type=submit]")
            page.wait_for_selector(".graphiql-editors", timeout=15_000)
        finally:
            browser.close()

    assert outside == []
