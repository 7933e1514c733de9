"""Bill runs end to end on the database: invoices, holds, idempotency, crashes, races and re-bills."""

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import connection

from billing.models import Agreement, BillRun, BillRunItem, Customer, Invoice, InvoiceLine
from billing.services import bill_runs
from billing.services.bill_runs import BillRunKeyReused, bill_run_execute, bill_run_start
from billing.services.rebilling import bill_rebill_revised
from metering.models import Quality, Source
from metering.services.readings import readings_ingest
from metering.validation import ReadingArrays
from pricing.models import Tariff
from pricing.services.tariffs import tariff_version_publish
from tests.factories.metering import NOW, half_hours, ingest, make_meter

D = Decimal
OCT_FROM = datetime(2024, 9, 30, 23, 0, tzinfo=UTC)  # 2024-10-01 00:00 BST
OCT_HALF_HOURS = 1490
JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)
RUN_AT = datetime(2024, 11, 2, 9, 0, tzinfo=UTC)


def flat_document(rate="0.25", **extra):
    return {
        "format": "tariff/v1",
        "currency": "GBP",
        "timezone": "Europe/London",
        "energy": {"kind": "flat", "rate_per_kwh": rate},
        **extra,
    }


def make_tariff(code="FLAT", *, document=None, direction="IMPORT"):
    tariff = Tariff.objects.create(code=code, name=code, direction=direction)
    tariff_version_publish(
        tariff_code=code,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_to=None,
        document=document
        or flat_document(standing_charge_per_day="0.50", tax={"name": "VAT", "rate": "0.05"}),
        now=NOW,
    )
    return tariff


def make_accounts(tariff, count, *, prefix="ACC", start=OCT_FROM, intervals=OCT_HALF_HOURS, kwh_e4=1000):
    """`count` accounts, each with a meter point, an import meter and complete half-hourly readings,
    ingested in one bulk call."""
    customers, meters = [], []
    for i in range(count):
        meter = make_meter(f"{prefix}-M{i:04d}")
        customer = Customer.objects.create(account_number=f"{prefix}-{i:04d}", name=f"Customer {i}")
        Agreement.objects.create(
            customer=customer,
            meter_point=meter.meter_point,
            import_tariff=tariff,
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
        customers.append(customer)
        meters.append(meter)
    ingest_bulk(meters, start, intervals, kwh_e4)
    return customers, meters


def ingest_bulk(meters, start, intervals, kwh_e4, *, quality=Quality.ACTUAL, now=NOW):
    first = np.datetime64(int(start.timestamp()), "s")
    starts = first + np.arange(intervals, dtype=np.int64) * np.timedelta64(1800, "s")
    n = len(meters) * intervals
    readings_ingest(
        readings=ReadingArrays(
            meter_id=np.repeat(np.array([m.pk for m in meters], dtype=np.int64), intervals),
            start=np.tile(starts, len(meters)),
            end=np.tile(starts + np.timedelta64(1800, "s"), len(meters)),
            kwh_e4=np.full(n, kwh_e4, dtype=np.int64),
            kwh_reject=np.zeros(n, dtype=np.int8),
        ),
        source=Source.ESTIMATION if quality != Quality.ACTUAL else Source.FILE,
        quality=quality,
        now=now,
    )


def start_and_execute(key="oct", accounts=None, **kwargs):
    run = bill_run_start(
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        idempotency_key=key,
        account_numbers=accounts,
        now=RUN_AT,
    )
    return bill_run_execute(bill_run_id=run.pk, now=RUN_AT, **kwargs)


@pytest.mark.django_db
def test_a_dst_month_is_invoiced_with_exact_days_and_totals():
    customers, _ = make_accounts(make_tariff(), 2)

    run = start_and_execute()

    assert (run.status, run.accounts_total, run.accounts_done, run.invoice_count, run.held_count) == (
        BillRun.Status.COMPLETED,
        2,
        2,
        2,
        0,
    )
    invoice = Invoice.objects.get(customer=customers[0])
    assert (invoice.status, invoice.currency, invoice.readings_as_of) == (Invoice.Status.DRAFT, "GBP", RUN_AT)
    # 1490 × 0.1 kWh × 0.25 = 37.25; 31 days × 0.50 = 15.50; VAT 5% of 52.75 = 2.6375 → 2.64.
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (
        D("52.75"),
        D("2.64"),
        D("55.39"),
    )
    lines = list(invoice.lines.order_by("pk").values_list("kind", "quantity", "unit", "amount", "estimated"))
    assert lines == [
        ("ENERGY", D("149.0000"), "kWh", D("37.25"), False),
        ("STANDING_CHARGE", D("31.0000"), "day", D("15.50"), False),
    ]
    taxes = list(invoice.taxes.values_list("name", "rate", "base_amount", "amount"))
    assert taxes == [("VAT", D("0.050000"), D("52.75"), D("2.64"))]


@pytest.mark.django_db
def test_billrun_shows_the_progress_and_outcome_of_a_run(gql_as, staff):
    make_accounts(make_tariff(), 2)
    run = start_and_execute()

    result = gql_as(staff)(
        """query($id: ID!) { billRun(id: $id) { status accountsTotal accountsDone invoiceCount heldCount
           startedAt finishedAt } }""",
        {"id": str(run.pk)},
    )

    assert result["data"]["billRun"] == {
        "status": "COMPLETED",
        "accountsTotal": 2,
        "accountsDone": 2,
        "invoiceCount": 2,
        "heldCount": 0,
        "startedAt": RUN_AT.isoformat(),
        "finishedAt": RUN_AT.isoformat(),
    }


@pytest.mark.django_db
def test_each_tax_rate_of_the_period_is_stored_with_its_base():
    """VAT changes from 5 % to 20 % on 10 October: two taxes, each on the lines of its own version."""
    tariff = Tariff.objects.create(code="VATSTEP", name="VAT step")
    change = datetime(2024, 10, 9, 23, 0, tzinfo=UTC)  # 10 October, local midnight
    versions = ((datetime(2020, 1, 1, tzinfo=UTC), change, "0.05"), (change, None, "0.20"))
    for valid_from, valid_to, rate in versions:
        tariff_version_publish(
            tariff_code="VATSTEP",
            valid_from=valid_from,
            valid_to=valid_to,
            document=flat_document(standing_charge_per_day="0.50", tax={"name": "VAT", "rate": rate}),
            now=NOW,
        )
    customers, _ = make_accounts(tariff, 1)

    start_and_execute()

    invoice = Invoice.objects.get(customer=customers[0])
    # Before: 432 half-hours × 0.1 kWh × 0.25 = 10.80 + 9 days × 0.50 = 4.50 -> 15.30, 5 % = 0.765 -> 0.77.
    # After: 1,058 half-hours -> 26.45 + 22 days -> 11.00 = 37.45, 20 % = 7.49.
    taxes = list(invoice.taxes.order_by("rate").values_list("name", "rate", "base_amount", "amount"))
    assert taxes == [
        ("VAT", D("0.050000"), D("15.30"), D("0.77")),
        ("VAT", D("0.200000"), D("37.45"), D("7.49")),
    ]
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (
        D("52.75"),
        D("8.26"),
        D("61.01"),
    )


@pytest.mark.django_db
def test_invoices_written_in_bulk_have_an_audit_entry_each():
    make_accounts(make_tariff(), 3)

    run = start_and_execute()

    entries = LogEntry.objects.get_for_model(Invoice).order_by("object_id")
    invoices = list(Invoice.objects.order_by("pk"))
    assert [e.object_id for e in entries] == [i.pk for i in invoices]
    entry = entries[0]
    assert entry.action == LogEntry.Action.CREATE
    assert entry.additional_data == {"bill_run": run.pk, "idempotency_key": "oct"}
    assert entry.changes["status"] == [None, "DRAFT"]
    assert entry.changes["total_amount"] == [None, "55.39"]
    assert entry.changes["lines"] == [None, "2"]
    assert entry.actor is None  # a Celery task: no person


@pytest.mark.django_db
def test_bulk_audit_entries_name_the_actor_of_the_request_that_ran_the_bill_run(django_user_model):
    make_accounts(make_tariff(), 2)
    clerk = django_user_model.objects.create_user("clerk", email="clerk@example.com")

    with set_actor(clerk, remote_addr="192.0.2.7"):
        start_and_execute()

    entries = LogEntry.objects.get_for_model(Invoice)
    assert [(e.actor, e.actor_email, e.remote_addr) for e in entries] == [
        (clerk, "clerk@example.com", "192.0.2.7")
    ] * 2


@pytest.mark.django_db
def test_a_version_change_mid_period_and_an_agreement_starting_mid_period():
    tariff = Tariff.objects.create(code="STEP", name="Step")
    change = datetime(2024, 10, 9, 23, 0, tzinfo=UTC)
    tariff_version_publish(
        tariff_code="STEP",
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_to=change,
        document=flat_document("0.25", standing_charge_per_day="0.45"),
        now=NOW,
    )
    tariff_version_publish(
        tariff_code="STEP",
        valid_from=change,
        valid_to=None,
        document=flat_document("0.30", standing_charge_per_day="0.50"),
        now=NOW,
    )
    customers, _ = make_accounts(tariff, 2)
    Agreement.objects.filter(customer=customers[1]).update(
        valid_from=datetime(2024, 10, 14, 23, 0, tzinfo=UTC)
    )

    start_and_execute()

    whole = Invoice.objects.get(customer=customers[0])
    assert list(whole.lines.order_by("pk").values_list("kind", "quantity", "amount")) == [
        ("ENERGY", D("43.2000"), D("10.80")),
        ("ENERGY", D("105.8000"), D("31.74")),
        ("STANDING_CHARGE", D("9.0000"), D("4.05")),
        ("STANDING_CHARGE", D("22.0000"), D("11.00")),
    ]
    assert whole.total_amount == D("57.59")
    late = Invoice.objects.get(customer=customers[1])
    # From 15 October: 17 days, 818 half-hours, all under the second version.
    assert list(late.lines.order_by("pk").values_list("kind", "quantity", "amount")) == [
        ("ENERGY", D("81.8000"), D("24.54")),
        ("STANDING_CHARGE", D("17.0000"), D("8.50")),
    ]


@pytest.mark.django_db
def test_missing_readings_hold_the_account_and_estimates_are_billed_as_estimated():
    tariff = make_tariff()
    (complete, gappy, estimated), meters = make_accounts(tariff, 3, intervals=0)
    ingest_bulk([meters[0]], OCT_FROM, OCT_HALF_HOURS, 1000)
    ingest(
        meters[1],
        half_hours(OCT_FROM, 100) + half_hours(OCT_FROM + timedelta(hours=52), OCT_HALF_HOURS - 104),
    )
    ingest_bulk([meters[2]], OCT_FROM, OCT_HALF_HOURS - 10, 1000)
    ingest_bulk(
        [meters[2]],
        OCT_FROM + timedelta(minutes=30 * (OCT_HALF_HOURS - 10)),
        10,
        1000,
        quality=Quality.ESTIMATED,
    )

    run = start_and_execute()

    assert (run.invoice_count, run.held_count, run.status) == (2, 1, BillRun.Status.COMPLETED)
    item = BillRunItem.objects.get(bill_run=run, customer=gappy)
    assert item.outcome == BillRunItem.Outcome.HELD
    assert f"meter {meters[1].serial}" in item.reason
    assert "4 intervals" in item.reason
    assert "2024-10-03T01:00Z" in item.reason  # OCT_FROM + 50 hours
    assert not Invoice.objects.filter(customer=gappy).exists()
    line = InvoiceLine.objects.get(invoice__customer=estimated, kind="ENERGY")
    assert (line.estimated, line.amount) == (True, D("37.25"))
    assert InvoiceLine.objects.get(invoice__customer=complete, kind="ENERGY").estimated is False


@pytest.mark.django_db
def test_starting_twice_with_one_key_gives_one_run_and_one_invoice_each(django_capture_on_commit_callbacks):
    make_accounts(make_tariff(), 2)
    args = {
        "period_start": date(2024, 10, 1),
        "period_end": date(2024, 11, 1),
        "account_numbers": None,
        "now": RUN_AT,
        "enqueue": True,
    }

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = bill_run_start(idempotency_key="monthly-2024-10", **args)
    with django_capture_on_commit_callbacks(execute=True) as again:
        second = bill_run_start(idempotency_key="monthly-2024-10", **args)

    assert first.pk == second.pk
    assert (len(callbacks), len(again)) == (1, 0)  # the task was enqueued once (and ran, eagerly)
    assert BillRun.objects.count() == 1
    assert Invoice.objects.count() == 2
    assert BillRun.objects.get().status == BillRun.Status.COMPLETED
    bill_run_execute(bill_run_id=first.pk, now=RUN_AT)
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_a_key_reused_for_another_period_is_refused():
    bill_run_start(
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        idempotency_key="k",
        account_numbers=None,
        now=RUN_AT,
    )
    with pytest.raises(BillRunKeyReused):
        bill_run_start(
            period_start=date(2024, 9, 1),
            period_end=date(2024, 10, 1),
            idempotency_key="k",
            account_numbers=None,
            now=RUN_AT,
        )
    with pytest.raises(BillRunKeyReused):
        bill_run_start(
            period_start=date(2024, 10, 1),
            period_end=date(2024, 11, 1),
            idempotency_key="k",
            account_numbers=["A-1"],
            now=RUN_AT,
        )


@pytest.mark.django_db
def test_a_second_run_for_the_same_accounts_and_period_invoices_nobody_twice():
    customers, _ = make_accounts(make_tariff(), 3)
    first = start_and_execute("first", accounts=[c.account_number for c in customers[:2]])

    second = start_and_execute("second")

    assert first.invoice_count == 2
    assert (second.status, second.accounts_done, second.invoice_count) == (BillRun.Status.COMPLETED, 3, 1)
    reasons = dict(BillRunItem.objects.filter(bill_run=second).values_list("customer_id", "reason"))
    assert reasons[customers[0].pk] == f"already invoiced for this period by bill run {first.pk}"
    for customer in customers:
        assert Invoice.objects.filter(customer=customer).count() == 1


@pytest.mark.django_db
def test_a_crash_after_the_first_chunk_keeps_whole_accounts_and_a_rerun_finishes(monkeypatch):
    tariff = make_tariff()
    crashed, _ = make_accounts(tariff, 5, prefix="X")
    reference, _ = make_accounts(tariff, 5, prefix="Y")
    write = bill_runs.chunk_write
    calls = []

    def crash_on_chunk_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return write(*args, **kwargs)

    monkeypatch.setattr(bill_runs, "chunk_write", crash_on_chunk_2)
    with pytest.raises(RuntimeError, match="worker killed"):
        start_and_execute("x", accounts=[c.account_number for c in crashed], chunk_size=2)

    run = BillRun.objects.get(idempotency_key="x")
    assert run.status == BillRun.Status.FAILED
    billed = set(Invoice.objects.values_list("customer_id", flat=True))
    assert billed == {crashed[0].pk, crashed[1].pk}
    assert InvoiceLine.objects.count() == 4
    assert set(BillRunItem.objects.values_list("customer_id", flat=True)) == billed

    monkeypatch.setattr(bill_runs, "chunk_write", write)
    resumed = bill_run_execute(bill_run_id=run.pk, now=RUN_AT, chunk_size=2)
    uninterrupted = start_and_execute("y", accounts=[c.account_number for c in reference], chunk_size=2)

    assert (resumed.status, resumed.accounts_done, resumed.invoice_count) == (BillRun.Status.COMPLETED, 5, 5)
    totals = lambda run: sorted(Invoice.objects.filter(bill_run=run).values_list("total_amount", flat=True))  # noqa: E731
    assert totals(resumed) == totals(uninterrupted) == [D("55.39")] * 5
    assert InvoiceLine.objects.filter(invoice__bill_run=resumed).count() == 10


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_number_of_accounts(django_assert_max_num_queries):
    tariff = make_tariff(document=flat_document())
    small, _ = make_accounts(tariff, 5, prefix="S", start=JAN_1, intervals=48)
    large, _ = make_accounts(tariff, 50, prefix="L", start=JAN_1, intervals=48)
    counts = []
    for key, customers in (("small", small), ("large", large)):
        run = bill_run_start(
            period_start=date(2024, 1, 1),
            period_end=date(2024, 1, 2),
            idempotency_key=key,
            account_numbers=[c.account_number for c in customers],
            now=RUN_AT,
        )
        with django_assert_max_num_queries(25) as captured:
            run = bill_run_execute(bill_run_id=run.pk, now=RUN_AT)
        counts.append(len(captured.captured_queries))
        assert run.invoice_count == len(customers)
    assert counts[1] <= counts[0] + 1  # the tariff is loaded in each run; nothing is per account


@pytest.mark.django_db
def test_revised_readings_credit_and_rebill_an_issued_invoice():
    from billing.services import invoices

    customers, meters = make_accounts(make_tariff(), 2)
    start_and_execute()
    for invoice in Invoice.objects.all():
        invoices.invoice_issue(number=f"DRAFT-{invoice.pk}", now=RUN_AT)
    ingest(meters[0], half_hours(OCT_FROM, 1, "1.1000"), now=RUN_AT + timedelta(days=3))

    report = bill_rebill_revised(now=RUN_AT + timedelta(days=4))

    old = Invoice.objects.get(customer=customers[0], status=Invoice.Status.VOID)
    assert report.credited == [old.number]
    assert old.credit_note.total_amount == D("55.39")
    corrected = Invoice.objects.get(customer=customers[0], status=Invoice.Status.DRAFT)
    assert corrected.replaces == old
    # One half-hour went from 0.1 to 1.1 kWh: +0.25 net = 53.00; VAT 2.65.
    assert (corrected.net_amount, corrected.tax_amount, corrected.total_amount) == (
        D("53.00"),
        D("2.65"),
        D("55.65"),
    )
    assert Invoice.objects.get(customer=customers[1]).status == Invoice.Status.ISSUED
    assert bill_rebill_revised(now=RUN_AT + timedelta(days=5)).credited == []


@pytest.mark.django_db
def test_the_daily_rebill_task_credits_what_was_revised():
    from billing.services import invoices
    from billing.tasks.bill_runs import bill_rebill_revised_task

    _customers, meters = make_accounts(make_tariff(), 2)
    start_and_execute()
    for invoice in Invoice.objects.all():
        invoices.invoice_issue(number=f"DRAFT-{invoice.pk}", now=RUN_AT)
    ingest(meters[1], half_hours(OCT_FROM, 1, "0.9000"), now=RUN_AT + timedelta(days=3))

    first = bill_rebill_revised_task.apply().get()
    again = bill_rebill_revised_task.apply().get()

    assert first == {"credited": 1, "replaced": 1, "held": 0}
    assert again == {"credited": 0, "replaced": 0, "held": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_for_the_same_accounts_give_one_invoice_each():
    customers, _ = make_accounts(make_tariff(), 6, start=JAN_1, intervals=48)
    runs = [
        bill_run_start(
            period_start=date(2024, 1, 1),
            period_end=date(2024, 1, 2),
            idempotency_key=f"race-{i}",
            account_numbers=None,
            now=RUN_AT,
        )
        for i in range(2)
    ]
    barrier = threading.Barrier(2)
    errors = []

    def execute(run):
        try:
            barrier.wait()
            bill_run_execute(bill_run_id=run.pk, now=RUN_AT, chunk_size=2)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=execute, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for customer in customers:
        assert Invoice.objects.filter(customer=customer).exclude(status="VOID").count() == 1
    finished = BillRun.objects.filter(pk__in=[r.pk for r in runs])
    assert all(run.status == BillRun.Status.COMPLETED and run.accounts_done == 6 for run in finished)
    assert sum(run.invoice_count for run in finished) == 6


@pytest.mark.django_db
def test_the_monthly_beat_task_starts_last_months_run_once(monkeypatch):
    from billing.tasks import bill_runs as tasks

    monkeypatch.setattr(tasks.timezone, "now", lambda: datetime(2025, 1, 1, 3, 0, tzinfo=UTC))

    first, second = tasks.bill_run_monthly(), tasks.bill_run_monthly()

    run = BillRun.objects.get()
    assert first == second == run.pk
    assert (run.idempotency_key, run.period_start, run.period_end) == (
        "monthly-2024-12",
        date(2024, 12, 1),
        date(2025, 1, 1),
    )
