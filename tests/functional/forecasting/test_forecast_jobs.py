"""Training and anomaly-detection runs started through GraphQL and admin: permission matrices, progress read
back while and after the workers run them, per-series outcomes, refused input changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from forecasting.models import Anomaly, Forecast, ForecastingJob, ModelRun, Series, SeriesValue
from forecasting.services.jobs import CHUNK_SIZE, forecasting_job_chunk, training_job_start
from tests.conftest import WRITE_MATRIX, error_codes
from tests.functional.forecasting.test_forecast_operations import READ_MATRIX
from tests.unit.forecasting.synthetic import demand_series

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 2, 1, tzinfo=UTC)
TRAIN = """mutation($input: ForecastTrainingStartInput!) { forecastTrainingStart(input: $input) {
  ... on ForecastJob { id kind status total done progress options }
  ... on OperationInfo { messages { code field message } } } }"""
ANOMALIES = """mutation($input: ForecastAnomaliesStartInput!) { forecastAnomaliesStart(input: $input) {
  ... on ForecastJob { id kind status total done progress options }
  ... on OperationInfo { messages { code field message } } } }"""
JOB = """query($id: ID!) { forecastJob(id: $id) {
  id kind status total done failed progress result startedAt finishedAt } }"""


@pytest.fixture
def caller(request, matrix_caller):
    return matrix_caller(
        request.param,
        {
            "read": ("forecasting:read",),
            "write": ("forecasting:write",),
            "other": ("pricing:read", "pricing:write"),
        },
    )


@pytest.fixture
def loads():
    """Two file series with 40 days of hourly history before NOW (one with an injected spike) and one
    series without any data."""
    y, _ = demand_series(days=40, start="2025-12-23")
    created = []
    for code, scale in (("file:load-a", 1.0), ("file:load-b", 2.0)):
        series = Series.objects.create(code=code, kind=Series.Kind.FILE, resolution_minutes=60)
        values = (y * scale).copy()
        if code == "file:load-b":
            values.iloc[-30] *= 6
        SeriesValue.objects.bulk_create(
            SeriesValue(series=series, interval_start=t.to_pydatetime(), value=float(v))
            for t, v in values.items()
            if t < NOW
        )
        created.append(series)
    created.append(Series.objects.create(code="file:empty", kind=Series.Kind.FILE, resolution_minutes=60))
    return created


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_training_start_permissions(loads, caller, denied):
    result = caller(TRAIN, {"input": {"series": ["file:load-a"]}})

    if denied:
        assert error_codes(result) == [denied]
        assert not ForecastingJob.objects.exists()
        return
    job = result["data"]["forecastTrainingStart"]
    assert job["kind"] == "training"
    assert job["status"] == "pending"
    assert (job["total"], job["done"], job["progress"]) == (1, 0, 0.0)
    assert job["options"]["series"] == ["file:load-a"]


@pytest.mark.parametrize(("caller", "denied"), WRITE_MATRIX, indirect=["caller"])
def test_anomalies_start_permissions(loads, caller, denied):
    result = caller(
        ANOMALIES,
        {
            "input": {
                "series": ["file:load-a", "file:load-b"],
                "periodFrom": (NOW - timedelta(days=7)).isoformat(),
                "periodTo": NOW.isoformat(),
            }
        },
    )

    if denied:
        assert error_codes(result) == [denied]
        assert not ForecastingJob.objects.exists()
        return
    job = result["data"]["forecastAnomaliesStart"]
    assert (job["kind"], job["status"], job["total"]) == ("anomalies", "pending", 2)
    assert job["options"]["period_from"] == "2026-01-25T00:00:00+00:00"


@pytest.mark.parametrize(("caller", "denied"), READ_MATRIX, indirect=["caller"])
def test_job_status_permissions(loads, caller, denied):
    job = training_job_start(now=NOW, series_codes=["file:load-a", "file:empty"])

    result = caller(JOB, {"id": str(job.pk)})

    if denied:
        assert error_codes(result) == [denied]
        return
    assert result["data"]["forecastJob"]["status"] == "pending"
    assert result["data"]["forecastJob"]["total"] == 2


def test_unknown_series_or_a_bad_period_start_nothing(loads, gql_as, staff):
    client = gql_as(staff)

    unknown = client(TRAIN, {"input": {"series": ["file:load-a", "feeder:nowhere"]}})
    period = {"periodFrom": NOW.isoformat(), "periodTo": (NOW - timedelta(days=1)).isoformat()}
    backwards = client(ANOMALIES, {"input": period})

    assert unknown["data"]["forecastTrainingStart"]["messages"][0]["field"] == "series"
    assert "feeder:nowhere" in unknown["data"]["forecastTrainingStart"]["messages"][0]["message"]
    assert backwards["data"]["forecastAnomaliesStart"]["messages"][0]["field"] == "periodTo"
    assert not ForecastingJob.objects.exists()


def test_a_training_run_is_done_by_the_workers_with_progress_and_outcomes(
    loads, gql_as, staff, django_capture_on_commit_callbacks
):
    client = gql_as(staff)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        started = client(TRAIN, {"input": {"series": ["file:load-a", "file:empty"]}})["data"][
            "forecastTrainingStart"
        ]
    job = client(JOB, {"id": started["id"]})["data"]["forecastJob"]

    assert len(callbacks) == 1  # one chunk
    assert job["status"] == "done"
    assert (job["total"], job["done"], job["failed"], job["progress"]) == (2, 2, 1, 1.0)
    assert job["result"]["file:empty"].startswith("skipped: file:empty has 0 measured intervals")
    champion = Series.objects.get(code="file:load-a").champion
    run = ModelRun.objects.get(series__code="file:load-a", purpose=ModelRun.Purpose.TRAIN)
    assert job["result"]["file:load-a"] == f"{champion} (selected), run {run.pk}"
    assert job["startedAt"] is not None
    assert job["finishedAt"] is not None
    forecast = Forecast.objects.get(series__code="file:load-a")
    assert forecast.issued_at.isoformat() == job_created_at(started["id"])
    assert len(forecast.value) == 168


def job_created_at(pk: str) -> str:
    return ForecastingJob.objects.get(pk=int(pk)).created_at.isoformat()


def test_a_retried_chunk_does_not_count_a_series_twice(loads):
    job = training_job_start(now=NOW, series_codes=["file:empty"])

    forecasting_job_chunk(pk=job.pk, series_codes=["file:empty"], now=NOW)
    forecasting_job_chunk(pk=job.pk, series_codes=["file:empty"], now=NOW)
    job.refresh_from_db()

    assert (job.done, job.failed, job.status) == (1, 1, ForecastingJob.Status.FAILED)
    assert job.finished_at == NOW


def test_an_anomaly_run_finds_the_injected_spike(loads, gql_as, staff, django_capture_on_commit_callbacks):
    client = gql_as(staff)

    with django_capture_on_commit_callbacks(execute=True):
        started = client(
            ANOMALIES,
            {
                "input": {
                    "series": ["file:load-b"],
                    "periodFrom": (NOW - timedelta(days=7)).isoformat(),
                    "periodTo": NOW.isoformat(),
                }
            },
        )["data"]["forecastAnomaliesStart"]
    job = client(JOB, {"id": started["id"]})["data"]["forecastJob"]

    assert job["status"] == "done"
    assert job["result"]["file:load-b"].endswith(" anomalies")
    spike = NOW - timedelta(hours=30)
    assert Anomaly.objects.filter(series__code="file:load-b", interval_start=spike).exists()


def test_many_series_are_split_into_chunks(db, django_capture_on_commit_callbacks):
    Series.objects.bulk_create(
        Series(code=f"file:s{i:03d}", kind=Series.Kind.FILE) for i in range(CHUNK_SIZE * 2 + 1)
    )
    Series.objects.create(code="price:DE", kind=Series.Kind.PRICE)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = training_job_start(now=NOW)

    assert job.total == CHUNK_SIZE * 2 + 1
    assert "price:DE" not in job.options["series"]
    assert len(callbacks) == 3


def test_admin_actions_start_runs(loads, client, staff, django_capture_on_commit_callbacks):
    client.force_login(staff)
    ids = [str(s.pk) for s in loads[:2]]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        trained = client.post(
            "/admin/forecasting/series/",
            {"action": "start_training", "_selected_action": ids},
            follow=True,
        )
        checked = client.post(
            "/admin/forecasting/series/",
            {"action": "start_anomaly_detection", "_selected_action": ids},
            follow=True,
        )
    jobs = list(ForecastingJob.objects.order_by("pk"))
    listing = client.get("/admin/forecasting/forecastingjob/")

    assert [j.kind for j in jobs] == [ForecastingJob.Kind.TRAINING, ForecastingJob.Kind.ANOMALIES]
    assert jobs[0].options["series"] == ["file:load-a", "file:load-b"]
    assert len(callbacks) == 2
    assert f"Training job {jobs[0].pk} started for 2 series".encode() in trained.content
    assert f"Anomalies job {jobs[1].pk} started for 2 series".encode() in checked.content
    assert listing.status_code == 200
    assert b"0/2 (0%)" in listing.content
