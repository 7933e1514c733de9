"""Load per feeder and per region and interval, recomputed from the readings.

Every reading write marks its (feeder, region, interval) keys in AggregateDirty (see `readings_ingest`).
`aggregates_refresh` takes a batch of those marks, recomputes the (feeder, interval) and (region, interval)
aggregates they name with one GROUP BY per batch of intervals (readings joined to meters and meter points,
import and export apart by the meter's direction), upserts them and deletes the marks it consumed.
`aggregates_rebuild` recomputes every aggregate of a period. Both are plain ORM aggregation, so they run
on PostgreSQL and SQLite alike; the sums are exact decimals on PostgreSQL.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Max, Q, Sum

from metering.models import AggregateDirty, Direction, LoadAggregate, Quality, Reading

REFRESH_LOCK_KEY = 7_214_002  # PostgreSQL advisory lock: one refresh at a time
INTERVALS_PER_QUERY = 500
WRITE_BATCH = 2000
_POINT = "meter__meter_point__"
_KWH = DecimalField(max_digits=18, decimal_places=4)
_ZERO = Decimal("0.0000")
_UPDATE_FIELDS = [
    "interval_end",
    "import_kwh",
    "export_kwh",
    "reading_count",
    "estimated_count",
    "updated_at",
]

Level = LoadAggregate.Level


@dataclass
class _Sum:
    interval_end: datetime
    import_kwh: Decimal = _ZERO
    export_kwh: Decimal = _ZERO
    reading_count: int = 0
    estimated_count: int = 0

    def add(self, other: "_Sum") -> None:
        self.interval_end = max(self.interval_end, other.interval_end)
        self.import_kwh += other.import_kwh
        self.export_kwh += other.export_kwh
        self.reading_count += other.reading_count
        self.estimated_count += other.estimated_count


def aggregates_refresh(*, now: datetime, max_keys: int = 50_000) -> int:
    """Recompute the aggregates of up to `max_keys` pending marks; return the aggregate rows written.

    The marks read are deleted by id <= the largest id read, so marks written meanwhile stay for the
    next refresh. With nothing pending nothing changes. On PostgreSQL a refresh that finds another one
    running returns 0 at once.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [REFRESH_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return 0
        marks = list(
            AggregateDirty.objects.order_by("id").values_list(
                "id", "feeder_code", "region_code", "interval_start"
            )[:max_keys]
        )
        if not marks:
            return 0
        by_start: dict[datetime, dict[str, set[str]]] = defaultdict(
            lambda: {Level.FEEDER: set(), Level.REGION: set()}
        )
        for _, feeder_code, region_code, interval_start in marks:
            if feeder_code:
                by_start[interval_start][Level.FEEDER].add(feeder_code)
            if region_code:
                by_start[interval_start][Level.REGION].add(region_code)
        written = _refresh_keys(by_start, now=now)
        AggregateDirty.objects.filter(id__lte=marks[-1][0]).delete()
    return written


def aggregates_rebuild(*, period_start: datetime, period_end: datetime, now: datetime) -> int:
    """Recompute every feeder and region aggregate with interval_start in [period_start, period_end),
    one day of readings per query; return the rows written. Pending marks stay (refreshing them later
    recomputes the same values)."""
    written = 0
    with transaction.atomic():
        LoadAggregate.objects.filter(interval_start__gte=period_start, interval_start__lt=period_end).delete()
        day = period_start
        while day < period_end:
            until = min(day + timedelta(days=1), period_end)
            sums = _sums(Q(interval_start__gte=day, interval_start__lt=until))
            rows = []
            for level, by_key in _by_level(sums).items():
                rows += [_row(level, key, total, now) for key, total in by_key.items() if key[0]]
            LoadAggregate.objects.bulk_create(rows, batch_size=WRITE_BATCH)
            written += len(rows)
            day = until
    return written


def _refresh_keys(by_start: dict[datetime, dict[str, set[str]]], *, now: datetime) -> int:
    """Recompute exactly the given keys (codes per level per interval start): one query per batch of
    intervals, then upsert (or delete a key left without readings)."""
    written = 0
    ordered = sorted(by_start)
    for at in range(0, len(ordered), INTERVALS_PER_QUERY):
        starts = ordered[at : at + INTERVALS_PER_QUERY]
        feeders = set().union(*(by_start[s][Level.FEEDER] for s in starts))
        regions = set().union(*(by_start[s][Level.REGION] for s in starts))
        sums = _sums(
            Q(interval_start__in=starts, interval_start__gte=starts[0], interval_start__lte=starts[-1])
            & (Q(**{f"{_POINT}feeder_code__in": feeders}) | Q(**{f"{_POINT}region_code__in": regions}))
        )
        rows, gone = [], []
        for level, by_key in _by_level(sums).items():
            for start in starts:
                for code in by_start[start][level]:
                    total = by_key.get((code, start))
                    if total is None:
                        gone.append((level, code, start))
                    else:
                        rows.append(_row(level, (code, start), total, now))
        LoadAggregate.objects.bulk_create(
            rows,
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["level", "code", "interval_start"],
            update_fields=_UPDATE_FIELDS,
        )
        written += len(rows)
        _delete_keys(gone)
    return written


def _delete_keys(keys: list[tuple[str, str, datetime]]) -> None:
    """Delete aggregates whose readings are gone (a key without readings has no aggregate)."""
    grouped = defaultdict(list)
    for level, code, start in keys:
        grouped[(level, code)].append(start)
    for (level, code), starts in grouped.items():
        LoadAggregate.objects.filter(level=level, code=code, interval_start__in=starts).delete()


def _sums(where: Q) -> dict[tuple[str, str, datetime], _Sum]:
    """Energy, counts and interval end per (feeder, region, interval start) of the readings in `where`."""
    rows = (
        Reading.objects.filter(where)
        .values(feeder=F(f"{_POINT}feeder_code"), region=F(f"{_POINT}region_code"), start=F("interval_start"))
        .annotate(
            import_kwh=Sum(
                "energy_kwh", filter=Q(meter__direction=Direction.IMPORT), output_field=_KWH, default=_ZERO
            ),
            export_kwh=Sum(
                "energy_kwh", filter=Q(meter__direction=Direction.EXPORT), output_field=_KWH, default=_ZERO
            ),
            reading_count=Count("id"),
            estimated_count=Count("id", filter=Q(quality=Quality.ESTIMATED)),
            end=Max("interval_end"),
        )
        .order_by()
    )
    return {
        (r["feeder"], r["region"], r["start"]): _Sum(
            interval_end=r["end"],
            import_kwh=r["import_kwh"],
            export_kwh=r["export_kwh"],
            reading_count=r["reading_count"],
            estimated_count=r["estimated_count"],
        )
        for r in rows
    }


def _by_level(sums: dict[tuple[str, str, datetime], _Sum]) -> dict[str, dict[tuple[str, datetime], _Sum]]:
    """Fold (feeder, region, start) sums into (feeder, start) and (region, start) sums."""
    out: dict[str, dict[tuple[str, datetime], _Sum]] = {Level.FEEDER: {}, Level.REGION: {}}
    for (feeder, region, start), total in sums.items():
        for level, code in ((Level.FEEDER, feeder), (Level.REGION, region)):
            key = (code, start)
            if key in out[level]:
                out[level][key].add(total)
            else:
                out[level][key] = _Sum(**vars(total))
    return out


def _row(level: str, key: tuple[str, datetime], total: _Sum, now: datetime) -> LoadAggregate:
    code, start = key
    return LoadAggregate(
        level=level,
        code=code,
        interval_start=start,
        interval_end=total.interval_end,
        import_kwh=total.import_kwh,
        export_kwh=total.export_kwh,
        reading_count=total.reading_count,
        estimated_count=total.estimated_count,
        updated_at=now,
    )
