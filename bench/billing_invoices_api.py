"""`invoices(first: 100)` over HTTP against the plain JSON view serving the same 100 invoices × 10 lines,
measured in the same run on a live WSGI server (wsgiref, in its own process): requests/s, p95, the server's
CPU time per request, the ratio, and the SQL query count of each. The two are measured in alternating
rounds, so a slow spell of the machine (a shared virtual machine has them) falls on both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_invoices_bench .venv/bin/python bench/billing_invoices_api.py
    # without DATABASE_URL: a temporary SQLite file
"""

import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# With the integration fields and arguments: a status filter, an explicit ordering (the same rows and order
# as the plain view's) and each line's `estimated` flag.
QUERY = """query { invoices(first: 100, filter: {status: [ISSUED, VOID]},
  ordering: [{field: PERIOD_START, direction: DESC}]) {
  totalCount pageInfo { hasNextPage endCursor } edges { node {
  number accountNumber periodStart periodEnd status currency netAmount taxAmount totalAmount
  lines { kind band description quantity unit unitPrice amount estimated } } } } }"""
INVOICES, LINES = 100, 10


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
    from billing.services.customers import customer_create

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


def _server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(server) -> None:
    server.serve_forever()


def main(requests: int = 100, rounds: int = 10) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    import multiprocessing
    from datetime import timedelta

    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from core.services import api_client_create

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
    connections.close_all()

    # The server runs in its own process (forked, so it shares this set-up), the client here: they do not
    # share an interpreter lock, and the server's CPU time is read from /proc.
    server = make_server("127.0.0.1", 0, WSGIHandler(), server_class=_Server, handler_class=_QuietHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    process = multiprocessing.get_context("fork").Process(target=_serve, args=(server,), daemon=True)
    process.start()
    server.socket.close()

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
    # Alternating rounds, so that a slower or faster spell of the machine falls on both alike.
    per_round = max(requests // rounds, 1)
    samples: dict[str, list[float]] = {"graphql": [], "plain": []}
    cpu = {"graphql": 0.0, "plain": 0.0}
    ratios = []
    for _ in range(rounds):
        elapsed = {}
        for name, call in (("graphql", graphql), ("plain", plain)):
            cpu_before = _server_cpu_seconds(process.pid)
            started = time.perf_counter()
            for _ in range(per_round):
                t0 = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - t0)
            elapsed[name] = time.perf_counter() - started
            cpu[name] += _server_cpu_seconds(process.pid) - cpu_before
        ratios.append(elapsed["graphql"] / elapsed["plain"])
    process.terminate()

    n = per_round * rounds

    def line(label: str, name: str, queries) -> str:
        rps = n / sum(samples[name])
        p95 = statistics.quantiles(samples[name], n=20)[-1] * 1000
        cpu_ms = cpu[name] / n * 1000
        return f"{label} {rps:7.1f} req/s  p95 {p95:7.1f} ms  server CPU {cpu_ms:6.1f} ms/req  {len(queries)} queries"

    print(
        f"database: {connection.vendor}; {INVOICES} invoices x {LINES} lines; {n} requests each, {rounds} rounds"
    )
    print(f"same rows in both: {same} ({len(gql_rows)} invoices)")
    print(line("GraphQL invoices(first: 100):", "graphql", gql_queries))
    print(line("plain JSON view:             ", "plain", plain_queries))
    print(
        f"ratio (GraphQL time / plain time): {sum(samples['graphql']) / sum(samples['plain']):.2f}x overall, "
        f"median of rounds {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}); "
        f"server CPU {cpu['graphql'] / cpu['plain']:.2f}x  (aim: within 2.5x)"
    )
    for label, captured in (("GraphQL", gql_queries), ("plain", plain_queries)):
        print(f"\n{label} queries:")
        for q in captured.captured_queries:
            print("  ", q["sql"][:150])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
