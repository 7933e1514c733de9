"""Reads of meter points, meters and readings: series in local buckets, arrays for bulk work."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum

from metering.ingest import PG_EPOCH_S
from metering.models import Meter, MeterPoint, Quality, Reading
from metering.periods import local_buckets
from metering.validation import KWH_SCALE, MeterTable

LOAD_ALL_METERS_ABOVE = 2_000


def meter_point_get(*, identifier: str, for_update: bool = False) -> MeterPoint | None:
    """The meter point `identifier`; `for_update` locks its row until the transaction ends (a writer that
    must see no concurrent change of what hangs off it, e.g. its agreements)."""
    points = MeterPoint.objects.select_for_update() if for_update else MeterPoint.objects
    return points.filter(identifier=identifier).first()


def meter_list(*, meter_point: MeterPoint) -> QuerySet[Meter]:
    return Meter.objects.filter(meter_point=meter_point).order_by("serial")


def meter_list_installed(
    *, meter_point_ids: Iterable[int], period_start: datetime, period_end: datetime
) -> QuerySet[Meter]:
    """The meters of the meter points installed at some time in [period_start, period_end), by id."""
    return (
        Meter.objects.filter(meter_point_id__in=set(meter_point_ids), installed_at__lt=period_end)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=period_start))
        .order_by("pk")
    )


@dataclass(frozen=True)
class ReadingBucket:
    interval_start: datetime
    interval_end: datetime
    kwh: Decimal
    quality: int  # the worst quality in the bucket: ESTIMATED if any reading was estimated
    reading_count: int


MAX_BUCKETS = 10_000


class PeriodTooLong(ValueError):
    pass


def reading_series(
    *,
    meter_point: MeterPoint,
    period_from: datetime,
    period_to: datetime,
    group_by: str = "HALF_HOUR",
    direction: str = "IMPORT",
    after: datetime | None = None,
    limit: int = MAX_BUCKETS,
) -> list[ReadingBucket]:
    """A meter point's energy over [period_from, period_to), per reading interval or per local
    hour/day/month (the meter point's zone, so DST days have 23/25 hours), summed in SQL."""
    if after is not None:
        period_from = max(period_from, after)
    meters = Meter.objects.filter(meter_point=meter_point, direction=direction).values("id")
    readings = Reading.objects.filter(meter__in=meters)
    if group_by == "HALF_HOUR":
        rows = (
            readings.filter(interval_start__gte=period_from, interval_start__lt=period_to)
            .values("interval_start")
            .annotate(end=Max("interval_end"), kwh=Sum("energy_kwh"), worst=Max("quality"), n=Count("id"))
            .order_by("interval_start")[: limit + 1]
        )
        buckets = [ReadingBucket(r["interval_start"], r["end"], r["kwh"], r["worst"], r["n"]) for r in rows]
    else:
        edges = local_buckets(period_from, period_to, meter_point.timezone, group_by)[: limit + 1]
        buckets = _bucketed(list(meters.values_list("id", flat=True)), edges)
    if len(buckets) > limit:
        raise PeriodTooLong(f"More than {limit} intervals; page with `after` or use a coarser groupBy.")
    return buckets


def _bucketed(meter_ids: list[int], edges: list[tuple]) -> list[ReadingBucket]:
    """Sum readings into the given UTC buckets with one SQL statement (a VALUES list of edges)."""
    if not meter_ids or not edges:
        return []
    values = ", ".join(["(%s, %s)"] * len(edges))
    ids = ", ".join(["%s"] * len(meter_ids))
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    sql = (
        f"WITH b(s, e) AS (VALUES {values}) "
        f"SELECT b.s{cast}, b.e{cast}, SUM(r.energy_kwh), MAX(r.quality), COUNT(*) FROM b "
        f"JOIN metering_reading r ON r.interval_start >= b.s{cast} AND r.interval_start < b.e{cast} "
        f"WHERE r.meter_id IN ({ids}) AND r.interval_start >= %s AND r.interval_start < %s "
        "GROUP BY b.s, b.e ORDER BY b.s"
    )
    adapt = connection.ops.adapt_datetimefield_value  # naive UTC text on SQLite, unchanged on PostgreSQL
    params = (
        [adapt(v) for edge in edges for v in edge] + meter_ids + [adapt(edges[0][0]), adapt(edges[-1][1])]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    field = Reading._meta.get_field("energy_kwh")
    start_field = Reading._meta.get_field("interval_start")
    out = []
    for start, end, kwh, worst, n in rows:
        if connection.vendor != "postgresql":
            start, end = (
                connection.ops.convert_datetimefield_value(v, start_field, connection) for v in (start, end)
            )
            kwh = field.to_python(str(kwh))
        out.append(ReadingBucket(start, end, Decimal(kwh).quantize(Decimal("0.0001")), worst, n))
    return out


def meter_ids_for_serials(*, serials) -> dict[str, int]:
    """Map serials to meter ids (unknown serials are absent); one query."""
    serials = list(serials)
    meters = Meter.objects.all()
    if len(serials) <= LOAD_ALL_METERS_ABOVE:
        meters = meters.filter(serial__in=serials)
    return dict(meters.values_list("serial", "id"))


def meter_table(*, meter_ids: np.ndarray) -> MeterTable:
    """The validation facts of the given meters, as arrays sorted by id; one query."""
    meters = Meter.objects.order_by("id")
    if len(meter_ids) <= LOAD_ALL_METERS_ABOVE:
        meters = meters.filter(id__in=[int(i) for i in meter_ids])
    rows = list(
        meters.values_list(
            "id",
            "resolution_minutes",
            "meter_point__timezone",
            "installed_at",
            "removed_at",
            "meter_point__max_power_kw",
            "meter_point_id",
            "meter_point__feeder_code",
            "meter_point__region_code",
        )
    )

    def seconds(values):
        return np.array(
            [np.datetime64(int(v.timestamp()), "s") if v else np.datetime64("NaT") for v in values],
            dtype="datetime64[s]",
        )

    columns = list(zip(*rows, strict=True)) if rows else [[]] * 9
    feeder_codes = sorted(set(zip(columns[7], columns[8], strict=True)))
    feeder_index = {code: i for i, code in enumerate(feeder_codes)}
    return MeterTable(
        ids=np.array(columns[0], dtype="int64"),
        resolution_s=np.array(columns[1], dtype="int64") * 60,
        timezone=np.array(columns[2], dtype=object),
        installed_at=seconds(columns[3]),
        removed_at=seconds(columns[4]),
        max_energy_e4_per_s=np.array([float(p) for p in columns[5]], dtype="float64") / 3600 * KWH_SCALE,
        meter_point_ids=np.array(columns[6], dtype="int64"),
        feeder_index=np.array(
            [feeder_index[pair] for pair in zip(columns[7], columns[8], strict=True)], dtype="int64"
        ),
        feeder_codes=feeder_codes,
    )


@dataclass
class ReadingArraysBlock:
    """Stored readings as arrays: meter id, start (epoch seconds), kWh × 10^4, quality."""

    meter_id: np.ndarray
    start_s: np.ndarray
    kwh_e4: np.ndarray
    quality: np.ndarray

    def estimated(self) -> np.ndarray:
        """Per reading, whether its value is not an actual one (estimated or substituted)."""
        return self.quality != Quality.ACTUAL


def reading_arrays(*, meter_ids: np.ndarray, start: datetime, end: datetime) -> ReadingArraysBlock:
    """The readings of the given meters with interval_start in [start, end): one query."""
    if connection.vendor == "postgresql":
        return _reading_arrays_postgresql(meter_ids=meter_ids, start=start, end=end)
    rows = list(
        Reading.objects.filter(
            meter_id__in=[int(i) for i in meter_ids], interval_start__gte=start, interval_start__lt=end
        ).values_list("meter_id", "interval_start", "energy_kwh", "quality")
    )
    return ReadingArraysBlock(
        meter_id=np.array([r[0] for r in rows], dtype="int64"),
        start_s=np.array([int(r[1].timestamp()) for r in rows], dtype="int64"),
        kwh_e4=np.array([int(r[2] * KWH_SCALE) for r in rows], dtype="int64"),
        quality=np.array([r[3] for r in rows], dtype="int8"),
    )


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"
_COPY_ROW = np.dtype(
    [("count", ">i2")] + [(f, t) for i in range(4) for f, t in ((f"len{i}", ">i4"), (f"v{i}", ">i8"))]
)


def _reading_arrays_postgresql(
    *, meter_ids: np.ndarray, start: datetime, end: datetime
) -> ReadingArraysBlock:
    """Binary COPY of four 8-byte columns, decoded by numpy without a Python object per row."""
    data = bytearray()
    query = (
        "COPY (SELECT meter_id, interval_start, (energy_kwh * 10000)::bigint, quality::bigint "
        "FROM metering_reading WHERE meter_id = ANY(%s) AND interval_start >= %s AND interval_start < %s"
        ") TO STDOUT (FORMAT BINARY)"
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(query, [[int(i) for i in meter_ids], start, end]) as copy,
    ):
        for block in copy:
            data += block
    if not data.startswith(_COPY_HEADER):
        raise RuntimeError("Unexpected COPY output.")
    extension = int.from_bytes(data[15:19], "big")
    body = memoryview(data)[19 + extension : len(data) - 2]  # header, then the -1 trailer
    rows = np.frombuffer(body, dtype=_COPY_ROW)
    if len(rows) and ((rows["count"] != 4).any() or (rows["len2"] != 8).any()):
        raise RuntimeError("Unexpected COPY row layout.")
    return ReadingArraysBlock(
        meter_id=rows["v0"].astype("int64"),
        start_s=rows["v1"].astype("int64") // 1_000_000 + PG_EPOCH_S,
        kwh_e4=rows["v2"].astype("int64"),
        quality=rows["v3"].astype("int8"),
    )


def reading_revisions(
    *, meter_point_ids: Iterable[int], start: datetime, end: datetime
) -> list[tuple[int, str, datetime, datetime]]:
    """(meter point id, its zone, interval start, revised at) of every revised reading of a meter of these
    meter points starting in `[start, end)` (one query)."""
    return list(
        Reading.objects.filter(
            revised_at__isnull=False,
            interval_start__gte=start,
            interval_start__lt=end,
            meter__meter_point_id__in=set(meter_point_ids),
        ).values_list("meter__meter_point_id", "meter__meter_point__timezone", "interval_start", "revised_at")
    )


@dataclass(frozen=True)
class MeterReadingArrays:
    """One meter's stored readings, sorted by start: start (epoch seconds), kWh × 10^4, quality."""

    meter_id: int
    start_s: np.ndarray
    kwh_e4: np.ndarray
    quality: np.ndarray

    def estimated(self) -> np.ndarray:
        """Per reading, whether its value is not an actual one (estimated or substituted)."""
        return self.quality != Quality.ACTUAL


def meter_reading_arrays(
    *, meter_ids: np.ndarray, start: datetime, end: datetime
) -> Iterator[MeterReadingArrays]:
    """The readings of the given meters with interval_start in [start, end), ONE row per meter, streamed
    (memory holds one meter at a time; the caller keeps what it needs). Meters without readings are not
    yielded; order of meters is unspecified.

    On PostgreSQL the readings come from the packed reading days (`metering.models.ReadingDay`, one row
    per meter and UTC day, kept in step with the readings by every merge): the server concatenates each
    meter's days into three byte strings, sent by binary COPY (one COPY message per meter), and numpy reads
    them without a Python object per reading; the first and last days are cut to [start, end) here
    (docs/metering.md "Reading days", docs/tariff-analytics.md "Loading")."""
    if connection.vendor != "postgresql":
        yield from _split_by_meter(reading_arrays(meter_ids=meter_ids, start=start, end=end))
        return
    if end <= start:
        return
    first_day = start.astimezone(UTC).date()
    last_day = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    pg_epoch = datetime(2000, 1, 1, tzinfo=UTC)
    lo_us, hi_us = ((t - pg_epoch) // timedelta(microseconds=1) for t in (start, end))
    query = (
        "COPY (SELECT meter_id, string_agg(starts, ''::bytea ORDER BY day), "
        "string_agg(kwh_e4, ''::bytea ORDER BY day), string_agg(quality, ''::bytea ORDER BY day) "
        "FROM metering_readingday WHERE meter_id = ANY(%s) AND day >= %s AND day <= %s "
        "GROUP BY meter_id) TO STDOUT (FORMAT BINARY)"
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(query, [[int(i) for i in meter_ids], first_day, last_day]) as copy,
    ):
        copy.set_types(["int8", "bytea", "bytea", "bytea"])
        for meter_id, starts, kwh, quality in copy.rows():
            start_us = np.frombuffer(starts, dtype=">i8").astype(np.int64)
            kwh_e4 = np.frombuffer(kwh, dtype=">i8").astype(np.int64)
            qualities = np.frombuffer(quality, dtype=">i2").astype(np.int8)
            if len(start_us) and (start_us[0] < lo_us or start_us[-1] >= hi_us):
                # Whole UTC days were read (in start order): keep [start, end).
                inside = (start_us >= lo_us) & (start_us < hi_us)
                start_us, kwh_e4, qualities = start_us[inside], kwh_e4[inside], qualities[inside]
            if len(start_us):
                seconds = start_us // 1_000_000 + PG_EPOCH_S
                yield MeterReadingArrays(int(meter_id), seconds, kwh_e4, qualities)


def _split_by_meter(block: ReadingArraysBlock) -> Iterator[MeterReadingArrays]:
    order = np.lexsort((block.start_s, block.meter_id))
    meter_id = block.meter_id[order]
    edges = np.flatnonzero(np.diff(meter_id)) + 1
    for a, b in zip([0, *edges.tolist()], [*edges.tolist(), len(meter_id)], strict=True):
        if a < b:
            rows = order[a:b]
            yield MeterReadingArrays(
                int(meter_id[a]), block.start_s[rows], block.kwh_e4[rows], block.quality[rows]
            )


def readings_changed_since(
    *, meter_point_ids: list[int], start: datetime, end: datetime, since: datetime
) -> bool:
    """Whether a reading of a meter of these meter points, starting in `[start, end)`, was received or
    revised after `since` (a bill computed at `since` is stale)."""
    if not meter_point_ids:
        return False
    return (
        Reading.objects.filter(
            meter__meter_point_id__in=meter_point_ids, interval_start__gte=start, interval_start__lt=end
        )
        .filter(Q(received_at__gt=since) | Q(revised_at__gt=since))
        .exists()
    )


def import_load_arrays(
    *, feeder_code: str | None, start: datetime, end: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """Summed import energy per interval start of one feeder's meter points (all meter points when
    `feeder_code` is None), interval_start in [start, end): (starts datetime64[s] UTC, kWh × 10^4 int64),
    sorted by start; one query. Billing uses it for coincident peak demand."""
    readings = Reading.objects.filter(
        meter__direction="IMPORT", interval_start__gte=start, interval_start__lt=end
    )
    if feeder_code is not None:
        readings = readings.filter(meter__meter_point__feeder_code=feeder_code)
    rows = list(
        readings.values("interval_start")
        .annotate(total=Sum("energy_kwh"))
        .values_list("interval_start", "total")
    )
    rows.sort(key=lambda row: row[0])
    return (
        np.array([int(r[0].timestamp()) for r in rows], dtype=np.int64).astype("datetime64[s]"),
        np.array([int(Decimal(r[1]) * KWH_SCALE) for r in rows], dtype=np.int64),
    )


def meter_point_pv_count(*, feeder_code: str | None = None, identifier: str | None = None) -> int:
    """How many meter points with PV a feeder has (or 1/0 for one meter point by identifier)."""
    points = MeterPoint.objects.filter(has_pv=True)
    if feeder_code is not None:
        points = points.filter(feeder_code=feeder_code)
    if identifier is not None:
        points = points.filter(identifier=identifier)
    return points.count()


def feeder_code_list() -> list[str]:
    """Every feeder code that a meter point names, sorted (used by grid to map feeders onto a network)."""
    return sorted(
        code
        for code in MeterPoint.objects.exclude(feeder_code="")
        .values_list("feeder_code", flat=True)
        .distinct()
        if code
    )


def meter_point_identifier_list(*, feeder_code: str, limit: int | None = None) -> list[str]:
    """Identifiers of the meter points on a feeder, sorted (the first `limit` of them)."""
    identifiers = (
        MeterPoint.objects.filter(feeder_code=feeder_code)
        .order_by("identifier")
        .values_list("identifier", flat=True)
    )
    return list(identifiers[:limit] if limit is not None else identifiers)
