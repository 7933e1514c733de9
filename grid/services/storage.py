"""Battery fleet schedules: assets, feeder limits, schedule runs stored set-based, dispatch over MQTT."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F

from core.errors import DomainError
from grid.models import BatteryAsset, FeederLimit, ScheduleInterval, ScheduleRun
from grid.optimize.storage import (
    FLEET_ARRAY_FIELDS,
    Fleet,
    ScheduleInfeasible,
    StorageProblem,
    StorageProblemError,
    feeder_precheck,
    job_payload,
    job_payload_solve,
    job_result,
    problem_from_payload,
    problem_merge,
    problem_validate,
    schedule_combine,
    schedule_jobs,
    schedule_optimize,
    self_consumption_pct,
)
from grid.selectors.storage import network_feeder_limits_kw
from grid.services import storage_inputs as inputs
from metering.selectors.readings import meter_point_get

log = logging.getLogger(__name__)

EXPORT_PRICE_PER_KWH = Decimal("0.05")
MQTT_TOPIC_ROOT = "grid/storage"
BLOCK_TASK = "grid.tasks.storage.storage_block_solve_task"
COLLECT_TASK = "grid.tasks.storage.storage_schedule_collect_task"


def schedule_step() -> timedelta:
    """The schedules' interval (GRID_STORAGE_STEP_MINUTES: 30 = 48 a day, 15 = 96; DST days differ)."""
    return timedelta(minutes=settings.GRID_STORAGE_STEP_MINUTES)


def schedule_zone() -> str:
    """The utility's local zone: schedule days run from local midnight to local midnight."""
    return str(settings.GRID_STORAGE_TIME_ZONE)


def schedule_day_bounds(day: date) -> tuple[datetime, datetime]:
    """`day` as a local day in UTC instants: 23 h on the spring-forward day, 25 h on the fall-back day."""
    return inputs.local_day_bounds(day, schedule_zone())


class UnableToSchedule(DomainError, code="unable_to_schedule"): ...


@dataclass(frozen=True)
class FleetInputs:
    assets: list[BatteryAsset]
    starts: list[datetime]
    problem: StorageProblem


# --- assets and limits -----------------------------------------------------------------------------------


@transaction.atomic
def battery_asset_upsert(*, code: str, meter_point_identifier: str, **values) -> BatteryAsset:
    """Create or change the battery `code` behind a meter point (fields as on BatteryAsset)."""
    meter_point = meter_point_get(identifier=meter_point_identifier)
    if meter_point is None:
        raise UnableToSchedule(f"No meter point '{meter_point_identifier}'.", field="meterPointIdentifier")
    asset = BatteryAsset.objects.filter(code=code).first() or BatteryAsset(code=code)
    asset.meter_point = meter_point
    for name, value in values.items():
        if value is not None:
            setattr(asset, name, value)
    if asset.soc_initial_kwh is None and asset.soc_max_kwh is not None:
        asset.soc_initial_kwh = asset.soc_min_kwh or Decimal(0)
    asset.full_clean()
    asset.save()
    asset.refresh_from_db()
    return asset


@transaction.atomic
def feeder_limit_set(*, feeder_code: str, import_limit_kw: Decimal, export_limit_kw: Decimal) -> FeederLimit:
    if import_limit_kw < 0 or export_limit_kw < 0:
        raise ValidationError({"import_limit_kw": "Limits must not be negative."})
    limit, _created = FeederLimit.objects.update_or_create(
        feeder_code=feeder_code,
        defaults={"import_limit_kw": import_limit_kw, "export_limit_kw": export_limit_kw},
    )
    limit.refresh_from_db()
    return limit


# --- schedules -------------------------------------------------------------------------------------------


def fleet_inputs(
    *,
    tariff_code: str,
    period_start: datetime,
    period_end: datetime,
    export_price_per_kwh: Decimal = EXPORT_PRICE_PER_KWH,
    import_prices: np.ndarray | None = None,
    as_of: datetime | None = None,
) -> FleetInputs:
    """The optimiser's problem for the active fleet: prices, PV, load, feeder limits, current SoC."""
    assets = list(
        BatteryAsset.objects.filter(active=True)
        .select_related("meter_point")
        .order_by("meter_point__feeder_code", "code")
    )
    if not assets:
        raise UnableToSchedule("No active battery assets.", field="assets")
    if period_end <= period_start:
        raise UnableToSchedule("periodEnd must be after periodStart.", field="periodEnd")
    step = schedule_step()
    starts = inputs.interval_starts(period_start, period_end, step)
    if not starts:
        raise UnableToSchedule("The period is shorter than one interval.", field="periodEnd")
    if import_prices is None:
        import_prices = inputs.import_prices_per_kwh(
            tariff_code=tariff_code, starts=starts, period_end=period_end
        )
    meter_points = [asset.meter_point for asset in assets]
    pv = np.array(
        [
            inputs.pv_profile_kw(
                meter_point=asset.meter_point,
                pv_peak_kw=asset.pv_peak_kw,
                starts=starts,
                period_end=period_end,
                as_of=as_of,
            )
            for asset in assets
        ]
    )
    load = inputs.load_profiles_kw(meter_points=meter_points, starts=starts, step=step, zone=schedule_zone())
    feeders = [mp.feeder_code or "-" for mp in meter_points]
    limits = feeder_limits_kw(feeder_codes=sorted(set(feeders)))
    soc_now = _soc_at(assets, period_start, step)

    def column(name):
        return np.array([float(getattr(asset, name)) for asset in assets])

    fleet = Fleet(
        units=[asset.code for asset in assets],
        feeders=feeders,
        capacity_kwh=column("capacity_kwh"),
        power_kw=column("power_kw"),
        efficiency_charge=column("efficiency_charge"),
        efficiency_discharge=column("efficiency_discharge"),
        soc_min_kwh=column("soc_min_kwh"),
        soc_max_kwh=column("soc_max_kwh"),
        soc_initial_kwh=soc_now,
        degradation_cost_per_kwh=column("degradation_cost_per_kwh"),
        min_power_kw=column("min_power_kw"),
    )
    problem = StorageProblem(
        fleet=fleet,
        dt_h=step.total_seconds() / 3600,
        import_price=np.asarray(import_prices, dtype=float),
        export_price=np.full(len(starts), float(export_price_per_kwh)),
        pv_kw=pv,
        load_kw=load,
        feeder_limits=limits,
        interval_starts=[t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in starts],
    )
    return FleetInputs(assets=assets, starts=starts, problem=problem)


def feeder_limits_kw(*, feeder_codes: list[str]) -> dict[str, tuple[float, float]]:
    """{feeder: (import kW, export kW)}: from the network's transformer ratings (sn_mva × the power factor
    GRID_STORAGE_POWER_FACTOR, shared by load) where a network maps the feeder, else the configured
    FeederLimit; feeders with neither have no limit."""
    limits = {
        limit.feeder_code: (float(limit.import_limit_kw), float(limit.export_limit_kw))
        for limit in FeederLimit.objects.filter(feeder_code__in=feeder_codes)
    }
    limits.update(
        network_feeder_limits_kw(
            feeder_codes=feeder_codes, power_factor=float(settings.GRID_STORAGE_POWER_FACTOR)
        )
    )
    return limits


def _soc_at(assets: list[BatteryAsset], moment: datetime, step: timedelta) -> np.ndarray:
    """Each unit's state of charge at `moment`: the latest dispatched schedule's, else the asset's own."""
    soc = np.array([float(asset.soc_initial_kwh) for asset in assets])
    rows = (
        ScheduleInterval.objects.filter(
            asset__in=assets,
            interval_start=moment - step,
            run__dispatched_at__isnull=False,
            run__kind__in=[ScheduleRun.Kind.DAY_AHEAD, ScheduleRun.Kind.INTRADAY],
        )
        .order_by("asset_id", "-run__created_at", "-run_id")
        .values_list("asset_id", "soc_kwh")
    )
    latest: dict[int, float] = {}
    for asset_id, value in rows:
        latest.setdefault(asset_id, value)
    for k, asset in enumerate(assets):
        if asset.pk in latest:
            soc[k] = min(max(latest[asset.pk], float(asset.soc_min_kwh)), float(asset.soc_max_kwh))
    return soc


def _inputs_sha256(tariff_code: str, fleet_inputs_: FleetInputs) -> str:
    problem = fleet_inputs_.problem
    digest = hashlib.sha256()
    digest.update(json.dumps([tariff_code, problem.interval_starts, list(problem.fleet.units)]).encode())
    digest.update(json.dumps(sorted(problem.feeder_limits.items())).encode())
    for name in (*FLEET_ARRAY_FIELDS, "min_power"):
        digest.update(np.round(getattr(problem.fleet, name), 6).tobytes())
    for values in (problem.import_price, problem.export_price, problem.pv_kw, problem.load_kw):
        digest.update(np.round(values, 6).tobytes())
    return digest.hexdigest()


def storage_schedule_run(
    *,
    tariff_code: str,
    period_start: datetime,
    period_end: datetime,
    kind: str,
    now: datetime,
    as_of: datetime | None = None,
    export_price_per_kwh: Decimal = EXPORT_PRICE_PER_KWH,
    workers: int = 1,
    fan_out: bool = False,
    queue: str | None = None,
    mqtt_url: str | None = None,
) -> ScheduleRun:
    """Optimise the active fleet over the period and store the run with one row per unit and interval.

    Idempotent: the same inputs (prices, PV, load, limits, states of charge) return the stored run. An
    infeasible problem is stored with its message (status `infeasible`) and no rows.

    With `fan_out`, the run is stored as `running` and its subproblems (one per limited feeder, blocks of 40
    other units) go to Celery workers as a chord once the transaction commits: each worker solves one and
    counts it in `jobs_done`; the chord's callback assembles the schedule, writes the rows and, with
    `mqtt_url`, dispatches it. `queue` overrides the grid queue (tests' own worker). `kind` is a
    `ScheduleRun.Kind` or its lower-case name.
    """
    kind = ScheduleRun.Kind(str(kind).upper())
    fleet = fleet_inputs(
        tariff_code=tariff_code,
        period_start=period_start,
        period_end=period_end,
        export_price_per_kwh=export_price_per_kwh,
        as_of=as_of,
    )
    digest = _inputs_sha256(tariff_code, fleet)
    existing = ScheduleRun.objects.filter(kind=kind, inputs_sha256=digest).first()
    if existing is not None:
        return existing
    problem = fleet.problem
    run = ScheduleRun(
        kind=kind,
        tariff_code=tariff_code,
        period_start=period_start,
        period_end=period_end,
        inputs_sha256=digest,
        units=len(fleet.assets),
        intervals=problem.intervals,
        created_at=now,
    )
    if fan_out:
        return _fan_out(run, problem, queue=queue, mqtt_url=mqtt_url)
    try:
        schedule = schedule_optimize(problem, workers=workers)
    except ScheduleInfeasible as exc:
        return _infeasible(run, exc)
    _run_complete(run, fleet, schedule)
    return run


def _infeasible(run: ScheduleRun, error: Exception) -> ScheduleRun:
    """Store the run as infeasible with the message naming the feeder (and interval), without rows."""
    run.status = ScheduleRun.Status.INFEASIBLE
    run.message = str(error)
    run.save()
    return run


def _run_complete(run: ScheduleRun, fleet: FleetInputs, schedule) -> None:
    problem = fleet.problem
    run.status = ScheduleRun.Status(schedule.status.upper())  # the optimiser says optimal or time_limit
    run.objective = Decimal(str(round(schedule.objective, 4)))
    run.seconds = schedule.seconds
    run.feeders_coupled = schedule.feeders_coupled
    run.self_consumption_without_pct = self_consumption_pct(problem, None)
    run.self_consumption_with_pct = self_consumption_pct(problem, schedule)
    with transaction.atomic():
        run.save()
        _rows_write(run, fleet, schedule)


def _fan_out(run: ScheduleRun, problem: StorageProblem, *, queue: str | None, mqtt_url: str | None):
    """Store the run as running and send its subproblems to the workers as a chord after commit."""
    try:
        problem_validate(problem)
        feeder_precheck(problem)
    except (ScheduleInfeasible, StorageProblemError) as exc:
        return _infeasible(run, exc)
    payloads = [job_payload(problem, job) for job in schedule_jobs(problem)]
    run.status = ScheduleRun.Status.RUNNING
    run.jobs_total = len(payloads)
    run.save()
    run_id = run.pk
    transaction.on_commit(lambda: _chord_send(run_id, payloads, queue, mqtt_url), robust=True)
    return run


def _chord_send(run_id: int, payloads: list[dict], queue: str | None, mqtt_url: str | None) -> None:
    from celery import chord

    from core.jobs import task_by_name

    options = {"queue": queue} if queue else {}
    header = [task_by_name(BLOCK_TASK).si(run_id=run_id, payload=p).set(**options) for p in payloads]
    body = task_by_name(COLLECT_TASK).s(run_id=run_id, mqtt_url=mqtt_url).set(**options)
    chord(header)(body)


def storage_block_solve(*, run_id: int, payload: dict) -> dict:
    """Solve one subproblem of a fanned-out run and count it as done; the answer carries its inputs back."""
    answer = job_payload_solve(payload)
    ScheduleRun.objects.filter(pk=run_id).update(jobs_done=F("jobs_done") + 1)
    answer["problem"] = payload["problem"]
    return answer


def storage_schedule_collect(
    *, run_id: int, answers: list[dict], now: datetime, mqtt_url: str | None = None
) -> ScheduleRun:
    """Assemble a fanned-out run from its subproblems' answers and write its rows (idempotent)."""
    run = ScheduleRun.objects.get(pk=run_id)
    if run.status != ScheduleRun.Status.RUNNING:
        return run
    results = [job_result(answer) for answer in answers]
    problem = problem_merge(
        [(r[0], problem_from_payload(a["problem"])) for r, a in zip(results, answers, strict=True)]
    )
    try:
        schedule = schedule_combine(problem, results, started=0.0)
    except ScheduleInfeasible as exc:
        return _infeasible(run, exc)
    schedule.seconds = schedule.solver_cpu_seconds  # the workers' summed solve time
    by_code = {a.code: a for a in BatteryAsset.objects.filter(code__in=list(problem.fleet.units))}
    step = schedule_step()
    fleet = FleetInputs(
        assets=[by_code[code] for code in problem.fleet.units],
        starts=[run.period_start + k * step for k in range(problem.intervals)],
        problem=problem,
    )
    _run_complete(run, fleet, schedule)
    if mqtt_url and run.kind != ScheduleRun.Kind.WHAT_IF:
        run = storage_schedule_dispatch(run_id=run.pk, now=now, mqtt_url=mqtt_url)
    return run


def storage_schedule_day(*, tariff_code: str, day: date, kind: str, now: datetime, **options) -> ScheduleRun:
    """Schedule the utility's local `day` (midnight to midnight in GRID_STORAGE_TIME_ZONE)."""
    period_start, period_end = schedule_day_bounds(day)
    return storage_schedule_run(
        tariff_code=tariff_code,
        period_start=period_start,
        period_end=period_end,
        kind=kind,
        now=now,
        **options,
    )


def _rows_write(run: ScheduleRun, fleet: FleetInputs, schedule) -> None:
    """Every unit × interval row in one COPY (PostgreSQL) or batched inserts."""
    problem = fleet.problem
    columns = (
        "run_id",
        "asset_id",
        "interval_start",
        "charge_kw",
        "discharge_kw",
        "soc_kwh",
        "pv_kw",
        "load_kw",
    )

    def rows():
        for u, asset in enumerate(fleet.assets):
            charge = schedule.charge_kw[u].round(6) + 0.0
            discharge = schedule.discharge_kw[u].round(6) + 0.0
            soc = schedule.soc_kwh[u].round(6) + 0.0
            pv, load = problem.pv_kw[u].round(6), problem.load_kw[u].round(6)
            for t, start in enumerate(fleet.starts):
                yield (run.pk, asset.pk, start, charge[t], discharge[t], soc[t], pv[t], load[t])

    if connection.vendor == "postgresql":
        table = ScheduleInterval._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows():
                copy.write_row(row)
        return
    ScheduleInterval.objects.bulk_create(
        (ScheduleInterval(**dict(zip(columns, row, strict=True))) for row in rows()), batch_size=2_000
    )


# --- dispatch --------------------------------------------------------------------------------------------


def schedule_payloads(run: ScheduleRun) -> dict[str, dict]:
    """The set points each unit receives: {asset code: payload}."""
    payloads: dict[str, dict] = {}
    rows = (
        ScheduleInterval.objects.filter(run=run)
        .order_by("asset__code", "interval_start")
        .values_list("asset__code", "interval_start", "charge_kw", "discharge_kw", "soc_kwh")
    )
    for code, start, charge, discharge, soc in rows:
        payload = payloads.setdefault(code, {"run": run.pk, "unit": code, "intervals": []})
        payload["intervals"].append(
            {
                "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "chargeKw": charge,
                "dischargeKw": discharge,
                "socKwh": soc,
            }
        )
    return payloads


def storage_schedule_dispatch(
    *, run_id: int, now: datetime, mqtt_url: str, topic_root: str = MQTT_TOPIC_ROOT, timeout_s: float = 10.0
) -> ScheduleRun:
    """Publish each unit's schedule to `<root>/<unit>/schedule` (QoS 1); count the broker's acks."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from metering.mqtt.messages import broker_address

    run = ScheduleRun.objects.get(pk=run_id)
    if run.status == ScheduleRun.Status.INFEASIBLE:
        raise UnableToSchedule(f"Run {run_id} is infeasible: nothing to dispatch.", field="runId")
    payloads = schedule_payloads(run)
    address = broker_address(mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"grid-storage-{run_id}-{now.timestamp():.0f}"
    )
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    client.connect(address.host, address.port)
    client.loop_start()
    acknowledged = 0
    try:
        infos = [
            client.publish(f"{topic_root}/{code}/schedule", json.dumps(payload), qos=1)
            for code, payload in payloads.items()
        ]
        for info in infos:
            info.wait_for_publish(timeout=timeout_s)
            acknowledged += bool(info.is_published())
    finally:
        client.loop_stop()
        client.disconnect()
    ScheduleRun.objects.filter(pk=run.pk).update(dispatched_at=now, acknowledged_units=acknowledged)
    run.refresh_from_db()
    if acknowledged < len(payloads):
        log.warning("schedule run %s: %s of %s units acknowledged", run.pk, acknowledged, len(payloads))
    return run


# --- beat: day ahead once prices are in, intraday when inputs change ---------------------------------------


def storage_schedules_due(
    *, tariff_code: str, now: datetime, mqtt_url: str | None, fan_out: bool = False
) -> list[ScheduleRun]:
    """Schedule tomorrow once its prices exist, and the rest of today again; dispatch what is new.

    Both are idempotent on their inputs: a run repeats only when prices, forecasts, limits or states of charge
    changed, so the intraday job re-plans exactly when something moved.
    """
    from pricing.selectors.tariffs import UnableToPriceTariff

    runs = []
    step = schedule_step()
    today_date = inputs.local_date(now, schedule_zone())
    today, tomorrow = schedule_day_bounds(today_date)
    next_step = today + step * (int((now - today) / step) + 1)
    plans = [(ScheduleRun.Kind.DAY_AHEAD, *schedule_day_bounds(today_date + timedelta(days=1)))]
    if next_step < tomorrow:
        plans.append((ScheduleRun.Kind.INTRADAY, next_step, tomorrow))
    for kind, start, end in plans:
        try:
            before = ScheduleRun.objects.count()
            run = storage_schedule_run(
                tariff_code=tariff_code,
                period_start=start,
                period_end=end,
                kind=kind,
                now=now,
                fan_out=fan_out,
                mqtt_url=mqtt_url,  # a fanned-out run is dispatched by its chord's callback
            )
        except UnableToPriceTariff:
            continue  # prices not in yet
        except UnableToSchedule as exc:
            log.info("storage schedule %s skipped: %s", kind, exc)
            continue
        ready = run.status not in (ScheduleRun.Status.INFEASIBLE, ScheduleRun.Status.RUNNING)
        if ScheduleRun.objects.count() > before and mqtt_url and ready:
            run = storage_schedule_dispatch(run_id=run.pk, now=now, mqtt_url=mqtt_url)
        runs.append(run)
    return runs
