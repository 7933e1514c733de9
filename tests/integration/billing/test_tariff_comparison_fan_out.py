"""A large stored comparison run fanned out in chunks as a Celery chord: in-process (eager) and on a real
worker over Redis, with the same bills and statistics as the run computed in one task, progress counted per
chunk's accounts, and a redelivered chunk counted once."""

import time
from datetime import UTC, date, datetime

import pytest

from billing.models import TariffComparisonChunk, TariffComparisonRun
from billing.services import comparison as service
from billing.services.comparison import (
    Cohort,
    Scenario,
    tariff_comparison_run_chunk,
    tariff_comparison_run_execute,
    tariff_comparison_run_start,
)
from tests.integration.billing.test_bill_runs import make_accounts, make_tariff
from tests.integration.billing.test_tariff_comparison import TOU
from tests.workers import celery_worker

NOW = datetime(2024, 11, 2, tzinfo=UTC)
SCENARIOS = [Scenario(), Scenario(name="PV 40%", pv_share=0.4)]


def make_cohort() -> None:
    """Three accounts on FLAT and two on TOU with October readings (chunks of 2: three chunks)."""
    make_accounts(make_tariff("FLAT"), 3, prefix="FL", kwh_e4=1234)
    make_accounts(make_tariff("TOU", document=TOU), 2, prefix="TO", kwh_e4=2345)


def start(monkeypatch, queue: str | None = None) -> TariffComparisonRun:
    """A stored run over every account, not yet enqueued (the test executes it)."""
    monkeypatch.setattr(service, "enqueue_on_commit", lambda *args, **kwargs: None)
    return tariff_comparison_run_start(
        tariff_codes=["FLAT", "TOU"],
        period_start=date(2024, 10, 1),
        period_end=date(2024, 11, 1),
        cohort=Cohort(),
        scenarios=SCENARIOS,
        now=NOW,
    )


def cohort_ids() -> list[int]:
    return service.cohort_customer_ids(
        cohort=Cohort(), period_start=date(2024, 10, 1), period_end=date(2024, 11, 1)
    )


def in_one_task(monkeypatch, settings) -> list[dict]:
    settings.BILLING_COMPARISON_CHUNK_ACCOUNTS = 1000
    run = tariff_comparison_run_execute(run_id=start(monkeypatch).pk, now=NOW)
    assert run.status == TariffComparisonRun.Status.COMPLETED
    return run.results


def same_results(fanned: list[dict], single: list[dict]) -> None:
    """Bills and money statistics identical; shares of energy equal up to float summation order."""
    assert len(fanned) == len(single) == 2
    for a, b in zip(fanned, single, strict=True):
        assert a["bills"] == b["bills"]
        assert a["held"] == b["held"]
        assert len(a["bills"]) == 5
        for x, y in zip(a["summaries"], b["summaries"], strict=True):
            shares = ("self_sufficiency", "self_consumption")
            assert {k: v for k, v in x.items() if k not in shares} == {
                k: v for k, v in y.items() if k not in shares
            }
            for key in shares:
                assert x[key] == (None if y[key] is None else pytest.approx(y[key], rel=1e-12))
    assert 0 < next(s for s in fanned[1]["summaries"] if s["tariff_code"] == "TOU")["self_sufficiency"] < 1


@pytest.mark.django_db
def test_an_eager_chord_gives_the_bills_and_statistics_of_one_task(monkeypatch, settings):
    make_cohort()
    single = in_one_task(monkeypatch, settings)

    settings.BILLING_COMPARISON_CHUNK_ACCOUNTS = 2
    run = tariff_comparison_run_execute(run_id=start(monkeypatch).pk, now=NOW)

    assert (run.status, run.progress_done, run.progress_total) == ("COMPLETED", 5, 5)
    same_results(run.results, single)
    assert not TariffComparisonChunk.objects.filter(run=run).exists()  # merged into the results


@pytest.mark.django_db
def test_a_redelivered_chunk_is_stored_and_counted_once(monkeypatch, settings):
    make_cohort()
    run = start(monkeypatch)
    TariffComparisonRun.objects.filter(pk=run.pk).update(status="RUNNING", progress_total=5)
    ids = cohort_ids()
    payload = {"index": 0, "customer_ids": ids[:2], "pv_accounts": [[], [ids[0]]]}

    for _ in range(2):
        assert tariff_comparison_run_chunk(run_id=run.pk, payload=payload, now=NOW) == 0

    run.refresh_from_db()
    assert run.progress_done == 2
    chunk = TariffComparisonChunk.objects.get(run=run)
    assert (chunk.index, chunk.accounts, len(chunk.tallies)) == (0, 2, 2)
    assert len(chunk.tallies[0]["bills"]) == 2


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_computes_the_chunks_from_redis_and_reports_progress(monkeypatch, settings):
    make_cohort()
    single = in_one_task(monkeypatch, settings)
    settings.BILLING_COMPARISON_CHUNK_ACCOUNTS = 2

    with celery_worker() as (queue, worker):
        run = tariff_comparison_run_execute(run_id=start(monkeypatch).pk, now=NOW, queue=queue)
        assert run.status == "RUNNING"
        seen = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run.refresh_from_db()
            seen.add(run.progress_done)
            if run.status != "RUNNING":
                break
            time.sleep(0.05)
        assert worker.poll() is None

    assert (run.status, run.progress_done, run.progress_total) == ("COMPLETED", 5, 5), run.error
    assert seen <= {0, 2, 4, 5}
    assert 5 in seen
    same_results(run.results, single)


@pytest.mark.django_db
def test_a_redelivered_run_task_keeps_the_chunks_stored_and_completes_with_the_same_results(
    monkeypatch, settings
):
    from billing import comparison

    make_cohort()
    single = in_one_task(monkeypatch, settings)
    settings.BILLING_COMPARISON_CHUNK_ACCOUNTS = 2
    run = start(monkeypatch)
    TariffComparisonRun.objects.filter(pk=run.pk).update(status="RUNNING", progress_total=5)
    ids = service.cohort_customer_ids(
        cohort=Cohort(), period_start=date(2024, 10, 1), period_end=date(2024, 11, 1)
    )
    chosen = comparison.chosen_accounts(ids, 0.4)
    first = {"index": 0, "customer_ids": ids[:2], "pv_accounts": [[], sorted(chosen.intersection(ids[:2]))]}
    tariff_comparison_run_chunk(run_id=run.pk, payload=first, now=NOW)
    kept = TariffComparisonChunk.objects.get(run=run, index=0)
    account = next(iter(kept.tallies[0]["bills"]))
    kept.tallies[0]["bills"][account]["TOU"] = "1.00"  # marked: a recomputed chunk would not have it
    kept.save()

    run = tariff_comparison_run_execute(run_id=run.pk, now=NOW)  # the run's task delivered again

    assert (run.status, run.progress_done) == ("COMPLETED", 5)
    assert run.results[0]["bills"][account]["TOU"] == "1.00"
    assert run.results[0]["bills"][account]["TOU"] != single[0]["bills"][account]["TOU"]
    others = [a for a in single[0]["bills"] if a != account]
    assert len(others) == 4
    for result, expected in zip(run.results, single, strict=True):
        assert {a: result["bills"][a] for a in others} == {a: expected["bills"][a] for a in others}
