"""Audit entries for bulk writes, for Celery tasks, and the masking of personal data.

django-auditlog records what goes through `save()` and `delete()`; `bulk_create`, `bulk_update` and
`QuerySet.update` bypass it. On audited models (those registered with django-auditlog, plus invoices and
credit notes, whose entries the billing services write) these calls go through the helpers here, which
write the entries in the same transaction: `bulk_create_audited`, `bulk_update_audited`, `update_audited`
(or `log_entries_create` after a bulk insert). tests/unit/test_audit_bulk_paths.py fails on a bulk call on
an audited model anywhere else.

Entries carry the actor and address of the request; an entry written by a Celery task names the task and
its id (`additional_data.task`, `additional_data.task_id`, and `actor_email` = `task:<name>[<id>]` when no
person is the actor), set by the `task_prerun`/`task_postrun` receivers connected in `ConfigConfig.ready`.
E-mail addresses and postal addresses are masked in `changes` (`mask_personal`, AUDITLOG_MASK_CALLABLE).
Audit rows cannot be changed or deleted by the application's database role (config/migrations/0002).
"""

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Any, cast

from auditlog.cid import get_cid
from auditlog.diff import get_field_value, get_mask_function
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db import router
from django.db.models import Model, QuerySet
from django.db.models.signals import pre_save

MASK = "********"
_current_task: ContextVar[tuple[str, str] | None] = ContextVar("audit_current_task", default=None)


def mask_personal(value: str) -> str:
    """Hide a personal value completely (not even its length): an entry shows that it changed, not what."""
    return MASK if value else value


REPR_MAX_LENGTH = 200


def log_entries_create(
    entries: Sequence[tuple[Model, dict[str, list[Any]]]],
    *,
    additional_data: dict[str, Any] | None = None,
    action: int = LogEntry.Action.CREATE,
) -> list[LogEntry]:
    """One entry (CREATE unless `action` says otherwise) per `(saved instance, changes)`, one insert.

    `changes` maps field names to `[old, new]` as django-auditlog writes them; `additional_data` (e.g. the
    bill run that created the rows) is stored on every entry.
    """
    if not entries:
        return []
    common = {"action": action, "additional_data": additional_data, "cid": get_cid()}
    content_types: dict[type, ContentType] = {}
    rows = []
    for instance, changes in entries:
        model = type(instance)
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(model)
        rows.append(
            LogEntry(
                content_type=content_types[model],
                object_pk=str(instance.pk),
                object_id=instance.pk if isinstance(instance.pk, int) else None,
                object_repr=str(instance)[:REPR_MAX_LENGTH],
                changes=changes,
                changes_text="",
                **common,
            )
        )
    # django-auditlog puts the actor and address on an entry in a pre_save receiver that it connects only
    # while a request (or `set_actor`) is in progress; bulk_create sends no pre_save, so send it here.
    using = router.db_for_write(LogEntry)
    for row in rows:
        pre_save.send(sender=LogEntry, instance=row, raw=False, using=using, update_fields=None)
    return cast(list[LogEntry], LogEntry.objects.bulk_create(rows))


def _changes(
    instance: Model, fields: Iterable[str], before: dict[str, Any] | None = None
) -> dict[str, list[str | None]]:
    """`{field: [old, new]}` as django-auditlog writes them, with the model's masked fields masked."""
    model = type(instance)
    masked: set[str] = set()
    mask = get_mask_function()
    if auditlog.contains(model):
        options = auditlog.get_model_fields(model)
        masked = set(options["mask_fields"])
        mask = get_mask_function(options["mask_callable"])
    result: dict[str, list[str | None]] = {}
    for name in fields:
        field = model._meta.get_field(name)
        new = get_field_value(instance, field)
        old = None if before is None else before.get(name)
        if before is not None and old == new:
            continue
        if name in masked:
            old, new = (None if old is None else mask(str(old))), mask(str(new))
        result[name] = [None if old is None else str(old), str(new)]
    return result


def _field_names(model: type[Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if not f.primary_key]


def bulk_create_audited(
    model: type[Model], objs: Sequence[Model], *, additional_data: dict[str, Any] | None = None, **kwargs: Any
) -> list[Model]:
    """`model.objects.bulk_create(objs, **kwargs)` plus one CREATE entry per row created (one insert)."""
    created = model._default_manager.bulk_create(objs, **kwargs)
    log_entries_create(
        [(obj, _changes(obj, _field_names(model))) for obj in created if obj.pk is not None],
        additional_data=additional_data,
    )
    return created


def bulk_update_audited(
    model: type[Model], objs: Sequence[Model], fields: Sequence[str], **kwargs: Any
) -> int:
    """`model.objects.bulk_update(objs, fields, **kwargs)` plus one UPDATE entry per changed row."""
    if not objs:
        return 0
    before = {
        row["pk"]: row
        for row in model._default_manager.filter(pk__in=[o.pk for o in objs]).values("pk", *fields)
    }
    count = model._default_manager.bulk_update(objs, fields, **kwargs)
    _log_updates([(obj, _changes(obj, fields, _stringify(before.get(obj.pk, {})))) for obj in objs])
    return count


def update_audited(queryset: QuerySet[Model], **values: Any) -> int:
    """`queryset.update(**values)` plus one UPDATE entry per changed row (rows read before and after)."""
    model = queryset.model
    fields = list(values)
    pks = list(queryset.values_list("pk", flat=True))
    if not pks:
        return 0
    before = {row["pk"]: row for row in model._default_manager.filter(pk__in=pks).values("pk", *fields)}
    count = model._default_manager.filter(pk__in=pks).update(**values)
    after = model._default_manager.filter(pk__in=pks).only(*fields)
    _log_updates([(obj, _changes(obj, fields, _stringify(before.get(obj.pk, {})))) for obj in after])
    return count


def _stringify(row: dict[str, Any]) -> dict[str, Any]:
    return {key: (None if value is None else str(value)) for key, value in row.items()}


def _log_updates(entries: list[tuple[Model, dict[str, list[Any]]]]) -> None:
    rows = [(obj, changes) for obj, changes in entries if changes]
    if rows:
        log_entries_create(rows, action=LogEntry.Action.UPDATE)


# --- Celery tasks as actors ---------------------------------------------------------------------------


def task_started(
    sender: object = None, task_id: str | None = None, task: object = None, **kwargs: Any
) -> None:
    """`task_prerun` receiver: entries written until the task ends name it and its id."""
    _current_task.set((getattr(task, "name", str(sender)), str(task_id)))


def task_finished(
    sender: object = None, task_id: str | None = None, task: object = None, **kwargs: Any
) -> None:
    """`task_postrun` receiver."""
    _current_task.set(None)


def entry_name_task(sender: object, instance: LogEntry, **kwargs: Any) -> None:
    """`pre_save` receiver of LogEntry: add the running task to the entry (its data, and as the actor when
    no person is)."""
    current = _current_task.get()
    if current is None:
        return
    name, task_id = current
    instance.additional_data = {**(instance.additional_data or {}), "task": name, "task_id": task_id}
    if instance.actor is None and not instance.actor_email:
        instance.actor_email = f"task:{name}[{task_id}]"[:254]
