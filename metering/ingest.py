"""Writing validated readings: staging table + one set-based merge.

PostgreSQL: the batch is streamed into a temporary staging table with a binary COPY built by numpy (no
per-row Python), then merged into the partitioned readings table set-based: stored intervals whose value
changes are copied into the revision history and updated (the latest actual wins; an estimate never
replaces an actual), new intervals are inserted. SQLite (the demo) runs an equivalent upsert on a
temporary table filled with executemany.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection

from metering.validation import KWH_SCALE

PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00:00Z, the origin of PostgreSQL's binary timestamps
COPY_CHUNK_ROWS = 500_000


@dataclass(frozen=True)
class MergeCounts:
    written: int  # new intervals plus replaced values
    revised: int  # replaced values (their old values are in the revision history)
    unchanged: int  # same value again, or an estimate where an actual exists


@dataclass(frozen=True)
class StagedRows:
    meter_id: np.ndarray
    start: np.ndarray  # datetime64[s]
    end: np.ndarray  # datetime64[s]
    kwh_e4: np.ndarray

    def __len__(self) -> int:
        return len(self.meter_id)


# Conditions shared by both dialects: replace when the value or quality differs and the newcomer is an
# actual, or the stored one is not.
_REPLACES = (
    "({old}.energy_kwh <> {new_kwh} OR {old}.quality <> {new_q}) AND ({new_q} = 1 OR {old}.quality <> 1)"
)


def merge_readings(rows: StagedRows, *, quality: int, source: int, received_at: datetime) -> MergeCounts:
    """Merge `rows` (one per meter and interval) into the readings table; call inside a transaction."""
    if len(rows) == 0:
        return MergeCounts(0, 0, 0)
    if connection.vendor == "postgresql":
        return _merge_postgresql(rows, quality=quality, source=source, received_at=received_at)
    return _merge_generic(rows, quality=quality, source=source, received_at=received_at)


def binary_copy_payload(columns: list[np.ndarray]) -> bytes:
    """PostgreSQL binary COPY data for rows of 8-byte integer (or timestamp) columns, built vectorised."""
    fields = [("count", ">i2")]
    for i in range(len(columns)):
        fields += [(f"len{i}", ">i4"), (f"val{i}", ">i8")]
    rows = np.empty(len(columns[0]), dtype=np.dtype(fields))
    rows["count"] = len(columns)
    for i, column in enumerate(columns):
        rows[f"len{i}"] = 8
        rows[f"val{i}"] = column
    return b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + rows.tobytes() + b"\xff\xff"


def pg_timestamps(values: np.ndarray) -> np.ndarray:
    """datetime64[s] (UTC) → PostgreSQL binary timestamptz (µs since 2000-01-01)."""
    return (values.astype("int64") - PG_EPOCH_S) * 1_000_000


def _merge_postgresql(rows: StagedRows, *, quality: int, source: int, received_at: datetime) -> MergeCounts:
    """COPY into staging, classify against stored rows, revise the changed ones, insert the new ones.

    New data (the bulk case) costs one plain INSERT ... SELECT; a re-sent batch costs one join. A
    concurrent writer inserting the same interval in between makes the INSERT fail on the primary key;
    the caller retries the batch, which then finds those rows stored.
    """
    period = {"lo": as_datetime(rows.start.min()), "hi": as_datetime(rows.start.max())}
    params = {"q": quality, "src": source, "at": received_at, **period}
    in_period = "r.interval_start >= %(lo)s AND r.interval_start <= %(hi)s"  # lets the planner prune
    same_key = "r.meter_id = s.meter_id AND r.interval_start = s.interval_start"
    new_kwh = "(s.kwh_e4 * 0.0001)"  # exact: numeric with scale 4
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS reading_stage (meter_id bigint, interval_start timestamptz, "
            "interval_end timestamptz, kwh_e4 bigint) ON COMMIT DELETE ROWS"
        )
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS reading_match (meter_id bigint, interval_start timestamptz, "
            "replaces boolean) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE reading_stage, reading_match")
        raw = cursor.cursor
        for at in range(0, len(rows), COPY_CHUNK_ROWS):
            part = slice(at, at + COPY_CHUNK_ROWS)
            payload = binary_copy_payload(
                [
                    rows.meter_id[part],
                    pg_timestamps(rows.start[part]),
                    pg_timestamps(rows.end[part]),
                    rows.kwh_e4[part],
                ]
            )
            with raw.copy("COPY reading_stage FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(payload)
        if len(rows) > 10_000:
            cursor.execute("ANALYZE reading_stage")
        replaces = _REPLACES.format(old="r", new_kwh=new_kwh, new_q="%(q)s")
        cursor.execute(
            "INSERT INTO reading_match SELECT s.meter_id, s.interval_start, " + replaces + " "
            f"FROM reading_stage s JOIN metering_reading r ON {same_key} AND {in_period}",
            params,
        )
        matched = cursor.rowcount
        revised = 0
        if matched:
            cursor.execute(
                "INSERT INTO metering_readingrevision (meter_id, interval_start, interval_end, energy_kwh, "
                "quality, source, received_at, superseded_at) "
                "SELECT r.meter_id, r.interval_start, r.interval_end, r.energy_kwh, r.quality, r.source, "
                "r.received_at, %(at)s FROM reading_match s JOIN metering_reading r "
                f"ON {same_key} AND {in_period} WHERE s.replaces",
                params,
            )
            revised = cursor.rowcount
            cursor.execute(
                f"UPDATE metering_reading r SET energy_kwh = {new_kwh}, interval_end = s.interval_end, "
                "quality = %(q)s, source = %(src)s, received_at = %(at)s, revised_at = %(at)s "
                "FROM reading_stage s JOIN reading_match m "
                "ON m.meter_id = s.meter_id AND m.interval_start = s.interval_start AND m.replaces "
                f"WHERE {same_key} AND {in_period}",
                params,
            )
        cursor.execute(
            "INSERT INTO metering_reading (meter_id, interval_start, interval_end, energy_kwh, quality, "
            f"source, received_at) SELECT s.meter_id, s.interval_start, s.interval_end, {new_kwh}, %(q)s, "
            "%(src)s, %(at)s FROM reading_stage s"
            + (" WHERE NOT EXISTS (SELECT 1 FROM reading_match r WHERE " + same_key + ")" if matched else ""),
            params,
        )
        inserted = cursor.rowcount
        cursor.execute("TRUNCATE reading_stage, reading_match")
    return MergeCounts(written=inserted + revised, revised=revised, unchanged=matched - revised)


def as_datetime(value: np.datetime64) -> datetime:
    return datetime.fromtimestamp(int(value.astype("datetime64[s]").astype("int64")), tz=UTC)


def _merge_generic(rows: StagedRows, *, quality: int, source: int, received_at: datetime) -> MergeCounts:
    """The same merge for SQLite (no COPY, no data-modifying CTEs)."""

    def ts(values: np.ndarray) -> list[str]:
        return [str(v).replace("T", " ") for v in values.astype("datetime64[s]")]

    at = received_at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS reading_stage (meter_id integer, interval_start text, "
            "interval_end text, kwh_e4 integer)"
        )
        cursor.execute("DELETE FROM reading_stage")
        cursor.executemany(
            "INSERT INTO reading_stage VALUES (%s, %s, %s, %s)",
            list(
                zip(rows.meter_id.tolist(), ts(rows.start), ts(rows.end), rows.kwh_e4.tolist(), strict=True)
            ),
        )
        new_kwh = f"(CAST(s.kwh_e4 AS REAL) / {KWH_SCALE})"
        params = [at, quality, quality]
        cursor.execute(
            "INSERT INTO metering_readingrevision (meter_id, interval_start, interval_end, energy_kwh, "
            "quality, source, received_at, superseded_at) "
            "SELECT r.meter_id, r.interval_start, r.interval_end, r.energy_kwh, r.quality, r.source, "
            "r.received_at, %s FROM reading_stage s JOIN metering_reading r "
            "ON r.meter_id = s.meter_id AND r.interval_start = s.interval_start "
            "WHERE " + _REPLACES.format(old="r", new_kwh=new_kwh, new_q="%s"),
            params,
        )
        revised = cursor.rowcount
        cursor.execute(
            "INSERT INTO metering_reading (meter_id, interval_start, interval_end, energy_kwh, quality, "
            "source, received_at) "
            f"SELECT s.meter_id, s.interval_start, s.interval_end, {new_kwh}, %s, %s, %s "
            "FROM reading_stage s WHERE true ON CONFLICT (meter_id, interval_start) DO UPDATE SET "
            "energy_kwh = excluded.energy_kwh, interval_end = excluded.interval_end, "
            "quality = excluded.quality, source = excluded.source, received_at = excluded.received_at, "
            "revised_at = excluded.received_at WHERE "
            + _REPLACES.format(
                old="metering_reading", new_kwh="excluded.energy_kwh", new_q="excluded.quality"
            ),
            [quality, source, at],
        )
        written = cursor.rowcount
        cursor.execute("DELETE FROM reading_stage")
    return MergeCounts(written=written, revised=revised, unchanged=len(rows) - written)
