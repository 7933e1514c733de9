"""Monthly partitions of the readings table on PostgreSQL.

Partitions are created in their own short transaction before data arrives (creating a partition locks the
parent table), by the ingest services for the months a batch touches and ahead of time by a daily job.
"""

from datetime import UTC, datetime

from django.db import connection, transaction

_known: set[str] = set()
LOCK_KEY = 7_214_001  # advisory lock serialising partition creation across processes


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(month: datetime) -> datetime:
    return datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=UTC)


def partition_name(month: datetime) -> str:
    return f"metering_reading_p{month:%Y%m}"


def ensure_reading_partitions(first: datetime, last: datetime) -> list[str]:
    """Make sure a partition exists for every month from `first` to `last` (inclusive); return new ones."""
    if connection.vendor != "postgresql":
        return []
    months = []
    month = _month_start(first.astimezone(UTC))
    while month <= last.astimezone(UTC):
        months.append(month)
        month = _next_month(month)
    missing = [m for m in months if partition_name(m) not in _known]
    if not missing:
        return []
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'metering_reading'::regclass"
        )
        existing = {row[0] for row in cursor.fetchall()}
        for month in missing:
            name = partition_name(month)
            if name not in existing:
                cursor.execute(
                    f'CREATE TABLE "{name}" PARTITION OF metering_reading FOR VALUES FROM (%s) TO (%s)',
                    [month, _next_month(month)],
                )
                created.append(name)
    _known.update(partition_name(m) for m in missing)
    return created


def forget_known_partitions() -> None:
    """Clear the per-process cache (tests recreate databases)."""
    _known.clear()
