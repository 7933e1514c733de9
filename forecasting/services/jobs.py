"""Training and anomaly-detection runs started by staff (admin) or the API (`forecastTrainingStart`,
`forecastAnomaliesStart`): recorded as a `ForecastingJob`, split into chunks of series handed to the
forecasting queue after commit, so both workers share the work; each finished series moves the job's
progress (`done` of `total`) and records its outcome, so the status can be read while it runs."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction

from core.errors import DomainError
from core.jobs import enqueue_on_commit
from core.periods import check_period
from forecasting.models import ForecastingJob, Series
from forecasting.selectors.forecasts import UnknownSeries
from forecasting.services.analysis import anomalies_detect
from forecasting.services.training import series_train

CHUNK_TASK = "forecasting.tasks.jobs.forecasting_job_chunk_task"
CHUNK_SIZE = 25
MAX_ANOMALY_PERIOD = timedelta(days=366)
DEFAULT_ANOMALY_PERIOD = timedelta(days=30)


class InvalidForecastingJob(DomainError, code="invalid_forecasting_job"): ...


def _series_codes(series_codes: list[str] | None) -> list[str]:
    """The given codes (each must exist), or every active series that is forecast by the daily job."""
    if not series_codes:
        codes = list(
            Series.objects.filter(active=True)
            .exclude(kind=Series.Kind.PRICE)
            .order_by("code")
            .values_list("code", flat=True)
        )
        if not codes:
            raise InvalidForecastingJob("there is no active series", field="series")
        return codes
    wanted = list(dict.fromkeys(series_codes))
    known = set(Series.objects.filter(code__in=wanted).values_list("code", flat=True))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise UnknownSeries(f"no series {', '.join(repr(c) for c in unknown)}", field="series")
    return wanted


def _start(kind: str, codes: list[str], options: dict, now: datetime) -> ForecastingJob:
    job = ForecastingJob.objects.create(
        kind=kind, options={**options, "series": codes}, total=len(codes), created_at=now
    )
    for i in range(0, len(codes), CHUNK_SIZE):
        enqueue_on_commit(CHUNK_TASK, pk=job.pk, series_codes=codes[i : i + CHUNK_SIZE])
    return job


@transaction.atomic
def training_job_start(
    *, now: datetime, series_codes: list[str] | None = None, reselect_champion: bool = False
) -> ForecastingJob:
    """Refit the champion of each series (all active ones when none are named) and issue its forecast as of
    the job's start; `reselect_champion` re-runs the champion selection backtest first."""
    codes = _series_codes(series_codes)
    return _start(
        ForecastingJob.Kind.TRAINING,
        codes,
        {"as_of": now.isoformat(), "reselect_champion": reselect_champion},
        now,
    )


@transaction.atomic
def anomaly_job_start(
    *,
    now: datetime,
    series_codes: list[str] | None = None,
    period_from: datetime | None = None,
    period_to: datetime | None = None,
    contamination: float = 0.005,
) -> ForecastingJob:
    """Detect anomalies of each series over [period_from, period_to) (default: the 30 days before `now`);
    findings replace earlier ones in the period and are listed in admin with their reason."""
    period_to = period_to or now
    period_from = period_from or period_to - DEFAULT_ANOMALY_PERIOD
    check_period(
        period_from,
        period_to,
        fields=("periodFrom", "periodTo"),
        longest=MAX_ANOMALY_PERIOD,
        error=InvalidForecastingJob,
    )
    if not 0 < contamination < 0.5:
        raise InvalidForecastingJob("contamination must be between 0 and 0.5", field="contamination")
    codes = _series_codes(series_codes)
    return _start(
        ForecastingJob.Kind.ANOMALIES,
        codes,
        {
            "period_from": period_from.isoformat(),
            "period_to": period_to.isoformat(),
            "contamination": contamination,
        },
        now,
    )


def _one(job: ForecastingJob, code: str) -> tuple[bool, str]:
    options = job.options
    try:
        if job.kind == ForecastingJob.Kind.TRAINING:
            outcome = series_train(
                series_code=code,
                now=datetime.fromisoformat(options["as_of"]),
                reselect_after_days=0 if options.get("reselect_champion") else 7,
            )
            return True, f"{outcome.model}{' (selected)' if outcome.selected else ''}, run {outcome.run_id}"
        found = anomalies_detect(
            series_code=code,
            period_from=datetime.fromisoformat(options["period_from"]),
            period_to=datetime.fromisoformat(options["period_to"]),
            now=job.created_at,
            contamination=options["contamination"],
        )
        return True, f"{found} anomalies"
    except DomainError as error:
        return False, f"skipped: {'; '.join(error.messages)}"


def forecasting_job_chunk(
    *, pk: int, series_codes: list[str], now: datetime, clock: Callable[[], datetime] | None = None
) -> dict[str, str]:
    """Run the job on `series_codes` (one chunk), recording each series' outcome as it finishes. A series
    already recorded (a retried chunk) is not run again; a failing series is reported, not raised.
    `now` is when the chunk starts; `clock` (the adapter's) stamps the job's end."""
    job = ForecastingJob.objects.get(pk=pk)
    ForecastingJob.objects.filter(pk=pk, status=ForecastingJob.Status.PENDING).update(
        status=ForecastingJob.Status.RUNNING, started_at=now
    )
    outcomes = {}
    for code in series_codes:
        if code in job.result:
            continue
        ok, text = _one(job, code)
        outcomes[code] = text
        with transaction.atomic():
            locked = ForecastingJob.objects.select_for_update().get(pk=pk)
            if code in locked.result:
                continue
            locked.result[code] = text
            locked.done += 1
            locked.failed += 0 if ok else 1
            if locked.done >= locked.total:
                everything_failed = locked.failed == locked.total
                locked.status = (
                    ForecastingJob.Status.FAILED if everything_failed else ForecastingJob.Status.DONE
                )
                locked.finished_at = clock() if clock else now
            locked.save(update_fields=["result", "done", "failed", "status", "finished_at"])
    return outcomes


def forecasting_job_progress(job: ForecastingJob) -> float:
    """The share of the job's series finished, 0–1."""
    return 1.0 if job.total == 0 else round(job.done / job.total, 4)


__all__ = [
    "InvalidForecastingJob",
    "anomaly_job_start",
    "forecasting_job_chunk",
    "forecasting_job_progress",
    "training_job_start",
]
