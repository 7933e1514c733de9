"""Account statement and balance of one account with ten years of monthly bills, payments and credits
(120 invoices, 120 payments, 24 adjustments; 2,400 more accounts' rows around it), and payments recorded
per second through `payment_record` (new ones, then replays). Prints the median time and the SQL queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_money_bench .venv/bin/python bench/billing_statement.py
    # without DATABASE_URL: a temporary SQLite file
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEARS, OTHER_ACCOUNTS = 10, 20


def _ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _seed(account_number: str):
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from billing.models import Customer, Invoice, InvoiceAdjustment, Payment

    customer = Customer.objects.create(account_number=account_number, name=account_number)
    invoices = []
    for m in range(YEARS * 12):
        year, month = 2016 + m // 12, m % 12 + 1
        invoices.append(
            Invoice(
                customer=customer,
                number=f"{account_number}-{m:04d}",
                period_start=date(year, month, 1),
                period_end=date(year + (month == 12), month % 12 + 1, 1),
                status=Invoice.Status.ISSUED,
                currency="GBP",
                net_amount=Decimal("50.00"),
                tax_amount=Decimal("2.50"),
                total_amount=Decimal("52.50"),
                readings_as_of=datetime(year, month, 28, tzinfo=UTC),
                issued_at=datetime(year + (month == 12), month % 12 + 1, 3, 9, tzinfo=UTC),
            )
        )
    Invoice.objects.bulk_create(invoices)
    Payment.objects.bulk_create(
        Payment(
            customer=customer,
            amount=Decimal("50.00"),
            currency="GBP",
            received_date=invoice.issued_at.date() + timedelta(days=10),
            method="DIRECT_DEBIT",
            external_reference=f"DD-{invoice.number}",
            created_at=invoice.issued_at,
        )
        for invoice in invoices
    )
    InvoiceAdjustment.objects.bulk_create(
        InvoiceAdjustment(
            number=f"A-{invoice.number}",
            invoice=invoice,
            reason="goodwill",
            idempotency_key="k",
            currency="GBP",
            net_amount=Decimal("2.00"),
            tax_amount=Decimal("0.10"),
            total_amount=Decimal("2.10"),
            issued_at=invoice.issued_at + timedelta(days=2),
        )
        for invoice in invoices[::5]
    )
    return customer


def main(rounds: int = 30, payments: int = 300) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.selectors.statements import account_balance, account_statement
    from billing.services.payments import payment_record

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    customer = _seed("BENCH-MAIN")
    for i in range(OTHER_ACCOUNTS):
        _seed(f"BENCH-{i:04d}")
    now = datetime(2026, 6, 1, tzinfo=UTC)

    def timed(fn):
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        return result, statistics.median(times) * 1000

    lines, statement_ms = timed(lambda: account_statement(customer))
    window, window_ms = timed(
        lambda: account_statement(customer, start=datetime(2025, 1, 1, tzinfo=UTC), end=now)
    )
    balance, balance_ms = timed(lambda: account_balance(customer, at=now))
    with CaptureQueriesContext(connection) as statement_queries:
        account_statement(customer, start=datetime(2025, 1, 1, tzinfo=UTC), end=now)
    with CaptureQueriesContext(connection) as balance_queries:
        account_balance(customer, at=now)

    def record(n: int) -> None:
        payment_record(
            account_number="BENCH-0000",
            amount=Decimal("10.00"),
            currency="GBP",
            received_date=date(2026, 5, 1),
            method="CARD",
            external_reference=f"BENCH-PAY-{n}",
            now=now,
        )

    start = time.perf_counter()
    for n in range(payments):
        record(n)
    new_rate = payments / (time.perf_counter() - start)
    start = time.perf_counter()
    for n in range(payments):
        record(n)
    replay_rate = payments / (time.perf_counter() - start)

    print(f"database: {connection.vendor}; load average {os.getloadavg()[0]:.2f}")
    print(f"statement, all {len(lines)} entries: {statement_ms:.1f} ms (median of {rounds})")
    print(
        f"statement, {len(window)} entries from 2025 with opening balance: {window_ms:.1f} ms, "
        f"{len(statement_queries)} queries"
    )
    print(f"balance {balance}: {balance_ms:.1f} ms, {len(balance_queries)} queries")
    print(f"paymentRecord service: {new_rate:.0f} new payments/s, {replay_rate:.0f} replays/s")


if __name__ == "__main__":
    main()
