"""Dispatch of an approved shedding plan: per-load instructions over MQTT and as OpenADR 3-style events.

An instruction is an OpenADR 3-style event (program, interval, IMPORT_CAPACITY_LIMIT payload of 0 kW for a
shed, none for a restore) targeted at the load (and its meter point when linked). Publishing is injected
(`publisher`), so tests use a broker with unique topics and the demo none at all.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from core.errors import DomainError
from core.jobs import enqueue_on_commit
from grid.models import Dispatch, DispatchInstruction, Load, SheddingPlan
from grid.mqtt import Outgoing

PROGRAM = "grid-load-shedding"
Publisher = Callable[[Sequence[Outgoing]], dict[str, int]]


DISPATCH_TASK = "grid.tasks.dispatch.shedding_plan_dispatch_task"


class DispatchInvalid(DomainError, code="GRID_DISPATCH_INVALID"): ...


def openadr_event(*, plan: SheddingPlan, load: Load, kind: str, now: datetime) -> dict[str, Any]:
    """One load's event; its id and name carry the lower-case kind (`shed`, `restore`) VENs have read."""
    name = str(kind).lower()
    start = plan.period_start or now
    end = plan.period_end or start + timedelta(hours=1)
    duration_minutes = max(1, int((end - start).total_seconds() // 60))
    targets = [{"type": "RESOURCE_NAME", "values": [load.name or str(load.index)]}]
    if load.meter_point_id:
        targets.append({"type": "METER_POINT_ID", "values": [str(load.meter_point_id)]})
    if load.feeder_code:
        targets.append({"type": "FEEDER", "values": [load.feeder_code]})
    limit_kw = 0.0 if kind == Dispatch.Kind.SHED else None
    return {
        "objectType": "EVENT",
        "event_id": f"plan-{plan.pk}-{name}-load-{load.pk}",
        "programID": PROGRAM,
        "eventName": f"{name} plan {plan.pk}",
        "priority": int(load.priority),
        "targets": targets,
        "intervalPeriod": {"start": start.isoformat(), "duration": f"PT{duration_minutes}M"},
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}
        ],
        "intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [limit_kw]}]}],
    }


def openadr_events(*, plan: SheddingPlan, now: datetime) -> list[dict[str, Any]]:
    """The plan's events as an OpenADR 3 VEN would read them (one per shed load)."""
    kind = Dispatch.Kind.RESTORE if plan.status == SheddingPlan.Status.RESTORED else Dispatch.Kind.SHED
    loads = Load.objects.filter(pk__in=plan.loads.values("load_id")).order_by("index", "id")
    return [openadr_event(plan=plan, load=load, kind=kind, now=now) for load in loads]


def _dispatch(
    *, plan_id: int, kind: str, topic_root: str, now: datetime, publisher: Publisher | None
) -> Dispatch:
    with transaction.atomic():
        plan = SheddingPlan.objects.select_for_update().filter(pk=plan_id).first()
        if plan is None:
            raise DispatchInvalid(f"plan {plan_id}: no such plan", field="plan_id")
        existing = Dispatch.objects.filter(plan=plan, kind=kind).first()
        if existing is not None and existing.status == Dispatch.Status.ACKNOWLEDGED:
            return existing
        allowed = {
            Dispatch.Kind.SHED: (SheddingPlan.Status.APPROVED, SheddingPlan.Status.DISPATCHED),
            Dispatch.Kind.RESTORE: (SheddingPlan.Status.DISPATCHED, SheddingPlan.Status.RESTORED),
        }[kind]
        if plan.status not in allowed:
            raise DispatchInvalid(
                f"plan {plan_id} is {plan.status.lower()}: cannot {str(kind).lower()}", field="plan_id"
            )
        if kind == Dispatch.Kind.SHED and not plan.feasible:
            raise DispatchInvalid(
                f"plan {plan_id} does not clear the violations; approve a feasible plan", field="plan_id"
            )
        dispatch = existing or Dispatch.objects.create(
            plan=plan, kind=kind, topic_prefix=f"{topic_root}/{plan.network_id}", created_at=now
        )
        if existing is None:
            loads = Load.objects.filter(pk__in=plan.loads.values("load_id")).order_by("index", "id")
            DispatchInstruction.objects.bulk_create(
                [
                    DispatchInstruction(
                        dispatch=dispatch,
                        load=load,
                        topic=f"{dispatch.topic_prefix}/{load.pk}/instruction",
                        payload=openadr_event(plan=plan, load=load, kind=kind, now=now),
                    )
                    for load in loads
                ]
            )
    instructions = list(dispatch.instructions.filter(acknowledged_at__isnull=True).order_by("id"))
    acked: dict[str, int] = {}
    if publisher is not None and instructions:
        acked = publisher([Outgoing(i.topic, i.payload) for i in instructions])
    with transaction.atomic():
        for instruction in instructions:
            if instruction.topic in acked:
                instruction.attempts += acked[instruction.topic]
                instruction.acknowledged_at = now
            elif publisher is not None:
                instruction.attempts += 1
        DispatchInstruction.objects.bulk_update(instructions, ["attempts", "acknowledged_at"])
        all_acked = not dispatch.instructions.filter(acknowledged_at__isnull=True).exists()
        dispatch.status = Dispatch.Status.ACKNOWLEDGED if all_acked else Dispatch.Status.PARTIAL
        dispatch.finished_at = now
        dispatch.save(update_fields=["status", "finished_at"])  # audited
        plan = SheddingPlan.objects.get(pk=plan_id)
        plan.status = (
            SheddingPlan.Status.DISPATCHED if kind == Dispatch.Kind.SHED else SheddingPlan.Status.RESTORED
        )
        plan.save(update_fields=["status"])  # audited
    return dispatch


@transaction.atomic
def shedding_plan_dispatch_queue(*, plan_id: int) -> SheddingPlan:
    """Hand an approved plan that clears its violations to the grid queue, which sends its instructions."""
    plan = SheddingPlan.objects.filter(pk=plan_id).first()
    if plan is None or plan.status not in (SheddingPlan.Status.APPROVED, SheddingPlan.Status.DISPATCHED):
        raise DispatchInvalid(f"plan {plan_id}: only an approved plan can be dispatched", field="id")
    if not plan.feasible:
        raise DispatchInvalid(f"plan {plan_id} does not clear the violations", field="id")
    enqueue_on_commit(DISPATCH_TASK, plan_id=plan_id)
    return plan


def shedding_plan_dispatch(
    *, plan_id: int, topic_root: str, now: datetime, publisher: Publisher | None
) -> Dispatch:
    """Send an approved plan's shed instructions; repeating it resends only the unacknowledged ones."""
    return _dispatch(
        plan_id=plan_id, kind=Dispatch.Kind.SHED, topic_root=topic_root, now=now, publisher=publisher
    )


def shedding_plan_restore(
    *, plan_id: int, topic_root: str, now: datetime, publisher: Publisher | None
) -> Dispatch:
    """Send the restore instructions of a dispatched plan (the condition has passed)."""
    return _dispatch(
        plan_id=plan_id, kind=Dispatch.Kind.RESTORE, topic_root=topic_root, now=now, publisher=publisher
    )


def plans_due_for_restore(*, now: datetime) -> list[int]:
    return list(
        SheddingPlan.objects.filter(status=SheddingPlan.Status.DISPATCHED, period_end__lte=now)
        .order_by("id")
        .values_list("id", flat=True)
    )
