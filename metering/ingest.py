"""Writing validated readings: staging table + one set-based merge.

PostgreSQL: the batch is streamed into a temporary staging table with a binary COPY built by numpy (no
per-row Python), then merged into the partitioned readings table set-based: stored intervals whose value
changes are copied into the revision history and updated (the latest actual wins; an estimate never
replaces an actual), new intervals are inserted; then the packed reading days of the meter-days written
are brought in step (`_refresh_reading_days`: new days packed in numpy and written once, existing days
re-aggregated per day). SQLite (the demo) runs an equivalent upsert on a temporary table filled with
executemany.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection

from metering.validation import KWH_SCALE

PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00:00Z, the origin of PostgreSQL's binary timestamps
PG_EPOCH_DAY = PG_EPOCH_S // 86_400  # the same origin for PostgreSQL's binary dates
COPY_CHUNK_ROWS = 500_000
COPY_CHUNK_DAYS = 20_000
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
COPY_TRAILER = b"\xff\xff"


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
    return COPY_HEADER + rows.tobytes() + COPY_TRAILER


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
        inserted = 0
        if matched < len(rows):  # a re-sent batch (every row stored) skips the anti-join
            cursor.execute(
                "INSERT INTO metering_reading (meter_id, interval_start, interval_end, energy_kwh, "
                "quality, source, received_at) SELECT s.meter_id, s.interval_start, s.interval_end, "
                f"{new_kwh}, %(q)s, %(src)s, %(at)s FROM reading_stage s"
                + (
                    " WHERE NOT EXISTS (SELECT 1 FROM reading_match r WHERE " + same_key + ")"
                    if matched
                    else ""
                ),
                params,
            )
            inserted = cursor.rowcount
        if inserted or revised:
            _refresh_reading_days(
                cursor, rows, quality=quality, unchanged=matched - revised, lo=period["lo"], hi=period["hi"]
            )
        cursor.execute("TRUNCATE reading_stage, reading_match")
    return MergeCounts(written=inserted + revised, revised=revised, unchanged=matched - revised)


_UTC_DAY = "({t}.interval_start AT TIME ZONE 'UTC')::date"
_DAY_START = "({t}.day::timestamp AT TIME ZONE 'UTC')"
_DAY_END = "(({t}.day + 1)::timestamp AT TIME ZONE 'UTC')"
# One meter-day's readings packed as metering.models.ReadingDay stores them, in start order.
PACKED_DAY_COLUMNS = (
    "string_agg(timestamptz_send(r.interval_start), ''::bytea ORDER BY r.interval_start) AS starts, "
    "string_agg(int8send((r.energy_kwh * 10000)::bigint), ''::bytea ORDER BY r.interval_start) AS kwh_e4, "
    "string_agg(int2send(r.quality::smallint), ''::bytea ORDER BY r.interval_start) AS quality, "
    "count(*) AS n"
)


def _refresh_reading_days(
    cursor, rows: StagedRows, *, quality: int, unchanged: int, lo: datetime, hi: datetime
) -> None:
    """Bring the packed day rows (`metering_readingday`) of the meter-days this merge wrote (inserted or
    replaced a reading of) in step with the readings, in the merge's transaction.

    The staged rows are packed per meter-day in numpy and copied into `reading_day_stage`; days whose
    staged rows were all unchanged are dropped. One statement then inserts every remaining day, in key
    order, through the primary key: a day that had no row (committed or pending) had no readings, so all
    its readings are the staged ones and the packed row is final (the bulk case: new days are written
    once, and `metering_readingday` and `metering_reading` are not read). A day whose row exists is instead
    locked by a no-op update; concurrent writers of a day serialise on its row. These days are aggregated
    again from `metering_reading` (index range per meter-day) by a later statement, whose snapshot (READ
    COMMITTED) includes every writer that held the row before; a writer that waits rebuilds after this
    one commits."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS reading_day_stage (meter_id bigint, day date, starts bytea, "
        "kwh_e4 bytea, quality bytea, reading_count smallint, PRIMARY KEY (meter_id, day)) "
        "ON COMMIT DELETE ROWS"
    )
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS reading_day_touch (meter_id bigint, day date) ON COMMIT DELETE ROWS"
    )
    cursor.execute("TRUNCATE reading_day_stage, reading_day_touch")
    with cursor.cursor.copy("COPY reading_day_stage FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(COPY_HEADER)
        for payload in packed_days(rows, quality=quality):
            copy.write(payload)
        copy.write(COPY_TRAILER)
    if unchanged:
        # A day is written when one of its staged rows is: drop the days whose rows all matched unchanged.
        cursor.execute(
            "DELETE FROM reading_day_stage d USING (SELECT m.meter_id, "
            f"{_UTC_DAY.format(t='m')} AS day, count(*) AS n FROM reading_match m WHERE NOT m.replaces "
            "GROUP BY 1, 2) u WHERE d.meter_id = u.meter_id AND d.day = u.day AND d.reading_count = u.n"
        )
    cursor.execute(
        "WITH days AS (INSERT INTO metering_readingday AS d "
        "(meter_id, day, starts, kwh_e4, quality, reading_count) "
        "SELECT meter_id, day, starts, kwh_e4, quality, reading_count FROM reading_day_stage "
        "ORDER BY meter_id, day "  # read through its primary key: no sort, no statistics needed
        "ON CONFLICT (meter_id, day) DO UPDATE SET reading_count = d.reading_count "
        "RETURNING d.meter_id, d.day, d.xmax = 0 AS inserted) "
        "INSERT INTO reading_day_touch SELECT meter_id, day FROM days WHERE NOT inserted"
    )
    if cursor.rowcount:
        first = datetime.combine(lo.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
        last = datetime.combine(
            hi.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC
        )
        # One index range per meter-day (LATERAL): the cost follows the days touched, not the partition.
        cursor.execute(
            "INSERT INTO metering_readingday AS d (meter_id, day, starts, kwh_e4, quality, reading_count) "
            "SELECT t.meter_id, t.day, p.starts, p.kwh_e4, p.quality, p.n FROM reading_day_touch t "
            f"CROSS JOIN LATERAL (SELECT {PACKED_DAY_COLUMNS} FROM metering_reading r "
            f"WHERE r.meter_id = t.meter_id AND r.interval_start >= {_DAY_START.format(t='t')} "
            f"AND r.interval_start < {_DAY_END.format(t='t')} "
            "AND r.interval_start >= %s AND r.interval_start < %s) p "
            "ON CONFLICT (meter_id, day) DO UPDATE SET starts = excluded.starts, kwh_e4 = excluded.kwh_e4, "
            "quality = excluded.quality, reading_count = excluded.reading_count",
            [first, last],
        )
    cursor.execute("TRUNCATE reading_day_stage, reading_day_touch")


def packed_days(rows: StagedRows, *, quality: int) -> Iterator[memoryview]:
    """Binary COPY rows (without header and trailer) of `reading_day_stage`: `rows` packed per meter and
    UTC day as `metering.models.ReadingDay` stores them, in start order, in chunks.

    Vectorised: the days with the same number of readings are one numpy record array whose fields are the
    COPY row's (field count, then length and value per column), the readings as sub-arrays."""
    start_s = rows.start.astype("datetime64[s]").astype("int64")
    meter_id, kwh_e4 = rows.meter_id.astype("int64"), rows.kwh_e4
    in_order = (meter_id[1:] > meter_id[:-1]) | (
        (meter_id[1:] == meter_id[:-1]) & (start_s[1:] > start_s[:-1])
    )
    if not in_order.all():
        order = np.lexsort((start_s, meter_id))
        meter_id, start_s, kwh_e4 = meter_id[order], start_s[order], kwh_e4[order]
    day = start_s // 86_400
    first = np.flatnonzero(np.concatenate(([True], (meter_id[1:] != meter_id[:-1]) | (day[1:] != day[:-1]))))
    counts = np.diff(np.append(first, len(start_s)))
    starts_us = (start_s - PG_EPOCH_S) * 1_000_000
    for n in np.unique(counts).tolist():
        record = np.dtype(
            [
                ("fields", ">i2"),
                *_copy_field("meter_id", ">i8"),
                *_copy_field("day", ">i4"),
                *_copy_field("starts", ">i8", n),
                *_copy_field("kwh_e4", ">i8", n),
                *_copy_field("quality", ">i2", n),
                *_copy_field("reading_count", ">i2"),
            ]
        )
        groups = first[counts == n]
        contiguous = len(groups) == len(first)  # every day has n readings (the common case): no gather
        for at in range(0, len(groups), COPY_CHUNK_DAYS):
            part = groups[at : at + COPY_CHUNK_DAYS]
            if contiguous:
                readings: slice | np.ndarray = slice(part[0], part[0] + len(part) * n)
                shape = (len(part), n)
            else:
                readings = part[:, None] + np.arange(n)  # positions of each day's readings, in start order
                shape = readings.shape
            out = np.empty(len(part), dtype=record)
            out["fields"] = 6
            for name, width in (("meter_id", 8), ("day", 4), ("reading_count", 2)):
                out[f"{name}_len"] = width
            for name, width in (("starts", 8), ("kwh_e4", 8), ("quality", 2)):
                out[f"{name}_len"] = width * n
            out["meter_id"] = meter_id[part]
            out["day"] = day[part] - PG_EPOCH_DAY
            out["starts"] = starts_us[readings].reshape(shape)
            out["kwh_e4"] = kwh_e4[readings].reshape(shape)
            out["quality"] = quality
            out["reading_count"] = n
            yield out.view(np.uint8).data


def _copy_field(name: str, dtype: str, n: int | None = None) -> list[tuple]:
    """A binary COPY field: its byte length, then its value (`n` values packed together, a bytea)."""
    return [(f"{name}_len", ">i4"), (name, dtype) if n is None else (name, dtype, (n,))]


def rebuild_reading_days(*, meter_ids: list[int] | None, start: datetime, end: datetime) -> int:
    """Rebuild the packed day rows of the given meters (all when None) for the UTC days that have readings
    starting in `[start, end)`, from the readings (PostgreSQL; call inside a transaction). For readings
    written or deleted around the ingest (raw SQL, restores; run it while nothing ingests into these meters);
    day rows of the period left without readings are deleted. Returns the number of days rebuilt.

    The same two steps as the merge's refresh (rows inserted or locked first, in key order; then
    aggregated in a later snapshot), each one pass over the readings of the meters in the period, grouped by
    (meter, day): no per-day lookups, so a year of many meters costs one scan."""
    if connection.vendor != "postgresql":
        return 0
    first = datetime.combine(start.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    last = datetime.combine(
        (end.astimezone(UTC) - timedelta(microseconds=1)).date() + timedelta(days=1),
        datetime.min.time(),
        tzinfo=UTC,
    )
    where = "r.interval_start >= %s AND r.interval_start < %s" + (
        " AND r.meter_id = ANY(%s)" if meter_ids is not None else ""
    )
    params = [first, last] + ([[int(i) for i in meter_ids]] if meter_ids is not None else [])
    day = _UTC_DAY.format(t="r")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO metering_readingday AS d (meter_id, day, starts, kwh_e4, quality, reading_count) "
            f"SELECT DISTINCT r.meter_id, {day}, ''::bytea, ''::bytea, ''::bytea, 0 FROM metering_reading r "
            f"WHERE {where} ORDER BY 1, 2 "
            "ON CONFLICT (meter_id, day) DO UPDATE SET reading_count = d.reading_count",
            params,
        )
        days = cursor.rowcount
        cursor.execute(
            "INSERT INTO metering_readingday AS d (meter_id, day, starts, kwh_e4, quality, reading_count) "
            f"SELECT r.meter_id, {day}, {PACKED_DAY_COLUMNS} FROM metering_reading r WHERE {where} "
            "GROUP BY 1, 2 ON CONFLICT (meter_id, day) DO UPDATE SET starts = excluded.starts, "
            "kwh_e4 = excluded.kwh_e4, quality = excluded.quality, reading_count = excluded.reading_count",
            params,
        )
        # Days left without readings (readings deleted around the services, e.g. by a bench) keep no row:
        # the period's day rows of the meters EXCEPT the (meter, day)s with readings, a set difference
        # (hashed or sorted) rather than a lookup per day row, whose plan right after a bulk insert (no
        # statistics yet) can scan the readings once per row.
        rows = "d.day >= %s AND d.day < %s" + (" AND d.meter_id = ANY(%s)" if meter_ids is not None else "")
        cursor.execute(
            "DELETE FROM metering_readingday g USING ("
            f"SELECT d.meter_id, d.day FROM metering_readingday d WHERE {rows} "
            f"EXCEPT SELECT DISTINCT r.meter_id, {day} FROM metering_reading r WHERE {where}"
            ") gone WHERE g.meter_id = gone.meter_id AND g.day = gone.day",
            [first.date(), last.date(), *params[2:], *params],
        )
    return int(days)


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
