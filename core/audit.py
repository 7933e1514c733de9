"""Audit entries for bulk writes.

django-auditlog records what goes through `save()` and `delete()`; `bulk_create` and `update` bypass it.
A service that writes in bulk calls `log_entries_create` in the same transaction, so the audit trail of each
row it created has an entry, with the actor and address of the request (or task) that did it, like the
entries django-auditlog writes itself.
"""

from collections.abc import Sequence
from typing import Any

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import router
from django.db.models import Model
from django.db.models.signals import pre_save

REPR_MAX_LENGTH = 200


def log_entries_create(
    entries: Sequence[tuple[Model, dict[str, list[Any]]]], *, additional_data: dict[str, Any] | None = None
) -> list[LogEntry]:
    """One CREATE entry per `(saved instance, changes)`, written with one insert.

    `changes` maps field names to `[old, new]` as django-auditlog writes them; `additional_data` (e.g. the
    bill run that created the rows) is stored on every entry.
    """
    if not entries:
        return []
    common = {"action": LogEntry.Action.CREATE, "additional_data": additional_data, "cid": get_cid()}
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
    created: list[LogEntry] = LogEntry.objects.bulk_create(rows)
    return created
