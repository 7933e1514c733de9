"""`invoices(first: 100)` over HTTP against the plain JSON view serving the same 100 invoices × 10 lines,
measured in the same run on a live WSGI server (wsgiref, in a thread): requests/s, p95, the ratio, and the
SQL query count of each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_invoices_bench .venv/bin/python bench/billing_invoices_api.py
    # without DATABASE_URL: a temporary SQLite file
"""

import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERY = """query { invoices(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { node {
  number accountNumber periodStart periodEnd status currency netAmount taxAmount totalAmount
  lines { kind band description quantity unit unitPrice amount } } } } }"""
INVOICES, LINES = 100, 10

urlpatterns: list = []  # this module is the urlconf of the benchmark: the project's URLs + the plain view


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _seed() -> None:
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from billing.models import Invoice, InvoiceLine
    from billing.services import customer_create

    customers = [customer_create(account_number=f"BENCH-{i:03d}", name=f"Bench {i}") for i in range(25)]
    invoices = Invoice.objects.bulk_create(
        Invoice(
            customer=customers[i % 25],
            period_start=date(2025, 1 + i // 25, 1),
            period_end=date(2025, 2 + i // 25, 1),
            currency="GBP",
            net_amount=Decimal("100.00"),
            tax_amount=Decimal("5.00"),
            total_amount=Decimal("105.00"),
            readings_as_of=datetime(2025, 6, 1, tzinfo=UTC),
        )
        for i in range(INVOICES)
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            kind="ENERGY" if n < LINES - 1 else "STANDING_CHARGE",
            band=f"band-{n}",
            description=f"Energy, band {n}",
            quantity=Decimal("123.4567"),
            unit="kWh",
            unit_price=Decimal("0.245000"),
            amount=Decimal("10.00"),
        )
        for invoice in invoices
        for n in range(LINES)
    )
    for i, invoice in enumerate(invoices, start=1):  # issued, as bills are when read
        Invoice.objects.filter(pk=invoice.pk).update(
            status="ISSUED", number=f"INV-{i:08d}", issued_at=datetime(2025, 6, 2, tzinfo=UTC)
        )


def _time(call, n: int) -> tuple[float, float]:
    latencies = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    p95 = statistics.quantiles(latencies, n=20)[-1]
    return n / elapsed, p95 * 1000


def main(requests: int = 100) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import include, path
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from config.services import api_client_create
    from config.urls import urlpatterns as project_urlpatterns

    urlpatterns[:] = [*project_urlpatterns, path("", include("billing.urls_api"))]
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["*"]

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # TRUNCATE: the row guards do not apply
    _seed()
    client, _ = api_client_create(name="bench", scopes=["billing:read"])
    token = AccessToken.objects.create(
        application=client.application,
        token=f"bench-{time.time()}",
        scope="billing:read",
        expires=timezone.now() + timedelta(hours=1),
    )
    auth = {"Authorization": f"Bearer {token.token}"}

    # Query counts, in-process.
    test_client = Client()
    with CaptureQueriesContext(connection) as gql_queries:
        gql_body = test_client.post(
            "/graphql/", json.dumps({"query": QUERY}), content_type="application/json", headers=auth
        ).json()
    with CaptureQueriesContext(connection) as plain_queries:
        plain_body = test_client.get("/api/plain/invoices?first=100", headers=auth).json()
    gql_rows = [e["node"] for e in gql_body["data"]["invoices"]["edges"]]
    plain_rows = plain_body["invoices"]
    same = [{k: r[k] for k in plain_rows[0]} for r in gql_rows] == plain_rows
    connection.close()

    server = make_server("127.0.0.1", 0, WSGIHandler(), server_class=_Server, handler_class=_QuietHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def graphql() -> None:
        request = urllib.request.Request(  # noqa: S310 - local server
            f"{base}/graphql/",
            data=json.dumps({"query": QUERY}).encode(),
            headers={**auth, "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request) as response:  # noqa: S310 - local server
            json.loads(response.read())

    def plain() -> None:
        request = urllib.request.Request(f"{base}/api/plain/invoices?first=100", headers=auth)  # noqa: S310
        with urllib.request.urlopen(request) as response:  # noqa: S310 - local server
            json.loads(response.read())

    for _ in range(10):  # warm up both
        graphql()
        plain()
    gql_rps, gql_p95 = _time(graphql, requests)
    plain_rps, plain_p95 = _time(plain, requests)
    server.shutdown()

    print(f"database: {connection.vendor}; {INVOICES} invoices x {LINES} lines; {requests} requests each")
    print(f"same rows in both: {same} ({len(gql_rows)} invoices)")
    print(
        f"GraphQL invoices(first: 100): {gql_rps:7.1f} req/s  p95 {gql_p95:7.1f} ms  {len(gql_queries)} queries"
    )
    print(
        f"plain JSON view:              {plain_rps:7.1f} req/s  p95 {plain_p95:7.1f} ms  {len(plain_queries)} queries"
    )
    print(f"ratio (plain/GraphQL req/s): {plain_rps / gql_rps:.2f}x  (aim: within 2.5x)")
    for label, captured in (("GraphQL", gql_queries), ("plain", plain_queries)):
        print(f"\n{label} queries:")
        for q in captured.captured_queries:
            print("  ", q["sql"][:150])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
