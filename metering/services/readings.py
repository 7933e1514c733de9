"""Writes of readings: every ingest path (arrays, per meter, blocks, files) ends here."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import IntegrityError, OperationalError, transaction

from core.errors import DomainError
from core.periods import check_period, is_aware
from core.results import MAX_REJECT_DETAILS, IngestResult
from metering.blocks import Block, BlockShapeError, blocks_to_arrays
from metering.ingest import MergeCounts, StagedRows, as_datetime, merge_readings, rebuild_reading_days
from metering.models import (
    AggregateDirty,
    IngestBatch,
    Quality,
    Source,
)
from metering.partitions import ensure_reading_partitions
from metering.selectors import readings as selectors
from metering.services.meters import meter_install, meter_point_create, meters_ensure  # noqa: F401 - importable here too
from metering.validation import (
    ReadingArrays,
    ReadingInput,
    Reject,
    first_of_duplicates,
    readings_from_inputs,
    reject_message,
    validate,
)


class IdempotencyKeyReused(DomainError, code="idempotency_key_reused"): ...


def readings_ingest(
    *,
    readings: ReadingArrays,
    source: int,
    now: datetime,
    quality: int | np.ndarray = Quality.ACTUAL,
    indexes: np.ndarray | None = None,
    all_or_nothing: bool = False,
) -> IngestResult:
    """Validate a batch, then write every valid reading in one transaction (idempotent).

    A rejected reading writes nothing; the others are written. Repeating the batch counts every valid
    reading as a duplicate and changes nothing. `indexes` are the positions reported for rejects
    (default: row numbers). With `all_or_nothing`, one rejected reading means nothing is written.
    `quality` is one quality for the batch or one per reading.
    """
    meters = selectors.meter_table(meter_ids=np.unique(readings.meter_id[readings.meter_id >= 0]))
    codes = validate(readings, meters, now=np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "s"))
    keep = first_of_duplicates(readings, codes)
    result = _rejects(codes, indexes)
    if all_or_nothing and result.rejected_count:
        return result
    result.duplicates = int((codes == 0).sum() - keep.sum())
    groups = []
    per_row = np.broadcast_to(np.asarray(quality, dtype="int8"), (len(readings),))
    for value in np.unique(per_row[keep]).tolist():
        chosen = keep & (per_row == value)
        groups.append(
            (
                StagedRows(
                    readings.meter_id[chosen],
                    readings.start[chosen],
                    readings.end[chosen],
                    readings.kwh_e4[chosen],
                ),
                int(value),
            )
        )
    if keep.any():
        starts = readings.start[keep]
        ensure_reading_partitions(as_datetime(starts.min()), as_datetime(starts.max()))
    counts = _merge_with_retry(groups, meters, source=source, now=now)
    result.accepted = counts.written
    result.revised = counts.revised
    result.duplicates += counts.unchanged
    return result


def _merge_with_retry(
    groups: list[tuple[StagedRows, int]], meters, *, source: int, now: datetime
) -> MergeCounts:
    """Merge each (rows, quality) group and mark the touched feeder intervals, in one transaction (the
    merge also brings the days it wrote in step, `metering.ingest._refresh_reading_days`).

    A concurrent batch that inserted some of the same intervals first makes the insert fail on the key;
    the retry then finds them stored and counts them as duplicates or revisions.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                written = revised = unchanged = 0
                for rows, quality in groups:
                    counts = merge_readings(rows, quality=quality, source=source, received_at=now)
                    if counts.written:
                        aggregate_mark_dirty(rows=rows, meters=meters)
                    written += counts.written
                    revised += counts.revised
                    unchanged += counts.unchanged
            return MergeCounts(written=written, revised=revised, unchanged=unchanged)
        except IntegrityError:
            if attempt == 2:
                raise
        except OperationalError as exc:
            # Two batches locking the same reading days in another order (docs/metering.md, "Reading
            # days"): PostgreSQL aborts one; it runs again.
            if attempt == 2 or getattr(exc.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


DEADLOCK_DETECTED = "40P01"


def aggregate_mark_dirty(*, rows: StagedRows, meters) -> None:
    """Record the (feeder, region, interval) keys a write touched; the aggregate job refreshes them."""
    pos = meters.positions(rows.meter_id)
    feeders = meters.feeder_index[pos]
    starts = rows.start.astype("int64")
    keys = _unique_pairs(feeders, starts)
    AggregateDirty.objects.bulk_create(
        [
            AggregateDirty(
                feeder_code=meters.feeder_codes[f][0],
                region_code=meters.feeder_codes[f][1],
                interval_start=as_datetime(np.datetime64(int(t), "s")),
            )
            for f, t in keys.tolist()
        ],
        batch_size=5000,
    )


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unique (a, b) pairs of small non-negative ints a and epoch seconds b, faster than axis=0 unique."""
    combined = np.unique((a.astype("int64") << 40) | (b - b.min()))
    return np.stack([combined >> 40, (combined & ((1 << 40) - 1)) + b.min()], axis=1)


def _rejects(codes: np.ndarray, indexes: np.ndarray | None) -> IngestResult:
    bad = np.flatnonzero(codes)
    result = IngestResult(rejected_count=len(bad))
    if len(bad):
        result.rejected_by_code = {Reject(c).code: n for c, n in Counter(codes[bad].tolist()).items()}
        positions = bad if indexes is None else indexes[bad]
        for row, index in zip(bad[:MAX_REJECT_DETAILS], positions[:MAX_REJECT_DETAILS], strict=True):
            code, field_name, message = reject_message(int(codes[row]))
            result.rejected.append(
                {"index": int(index), "code": code, "field": field_name, "message": message}
            )
    return result


def readings_ingest_for_meter(
    *,
    meter_serial: str,
    readings: list[ReadingInput],
    source: int,
    now: datetime,
    idempotency_key: str | None = None,
    client: str = "",
) -> IngestResult:
    """Ingest one meter's readings (the GraphQL and MQTT paths); an idempotency key replays the result.

    Keys belong to the `client` that sent them (`app:<client id>`, `user:<id>`): another client's identical
    key is another request."""
    request_hash = _request_hash(meter_serial, readings)
    if idempotency_key:
        previous = IngestBatch.objects.filter(client=client, idempotency_key=idempotency_key).first()
        if previous is not None:
            return _replay(previous, request_hash)
    meter_id = selectors.meter_ids_for_serials(serials=[meter_serial]).get(meter_serial, -1)
    arrays = readings_from_inputs(meter_id, readings)
    result = readings_ingest(readings=arrays, source=source, now=now)
    if idempotency_key:
        try:
            with transaction.atomic():
                IngestBatch.objects.create(
                    client=client,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    result=result.as_dict(),
                )
        except IntegrityError:  # a concurrent request with the same key won; its data equals ours
            return _replay(
                IngestBatch.objects.get(client=client, idempotency_key=idempotency_key), request_hash
            )
    return result


def _replay(batch: IngestBatch, request_hash: str) -> IngestResult:
    if batch.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This idempotency key was used for different readings.", field="idempotency_key"
        )
    return IngestResult(**batch.result)


def _request_hash(meter_serial: str, readings: list[ReadingInput]) -> str:
    canonical = [meter_serial] + [
        [r.interval_start.astimezone(UTC).isoformat(), r.interval_end.astimezone(UTC).isoformat(), str(r.kwh)]
        for r in readings
    ]
    return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


class UnableToIngestBlocks(DomainError, code="reading_block_invalid"): ...


@dataclass(frozen=True)
class ReadingBlockInput:
    """One meter's consecutive intervals: value i covers [start + i·resolution, start + (i+1)·resolution)."""

    meter_serial: str
    start: datetime
    resolution_s: int
    values: list
    qualities: list | None = None


QUALITY_NAMES = {q.name: int(q.value) for q in Quality}
# Where a rejected value of a block is wrong, in the block input's own field names.
BLOCK_REJECT_FIELDS = {
    Reject.UNKNOWN_METER: "meterSerial",
    Reject.INVALID_TIMESTAMP: "start",
    Reject.MISALIGNED_INTERVAL: "start",
    Reject.EMPTY_INTERVAL: "resolution",
    Reject.WRONG_INTERVAL_LENGTH: "resolution",
    Reject.INVALID_QUALITY: "qualities",
}


def readings_ingest_blocks(
    *,
    blocks: list[ReadingBlockInput],
    source: int,
    now: datetime,
    idempotency_key: str | None = None,
    client: str = "",
) -> IngestResult:
    """Ingest interval blocks (ESPI / Green Button shape) of any number of meters in one validation and one
    set-based merge; each rejected value is reported with its block and value index and not written.

    Idempotent like `readings_ingest_for_meter`: the same values again are duplicates; an idempotency key
    replays the first result (the same key with other blocks is refused). A malformed block (values or
    qualities not lists of the same length) refuses the request, naming `blocks.<i>.<field>`.
    """
    request_hash = _blocks_hash(blocks)
    if idempotency_key:
        previous = IngestBatch.objects.filter(client=client, idempotency_key=idempotency_key).first()
        if previous is not None:
            return _replay(previous, request_hash)
    ids = selectors.meter_ids_for_serials(serials=sorted({b.meter_serial for b in blocks}))
    try:
        arrays = blocks_to_arrays(
            [
                Block(ids.get(b.meter_serial, -1), b.start, b.resolution_s, b.values, b.qualities)
                for b in blocks
            ],
            QUALITY_NAMES,
            Quality.ACTUAL,
        )
    except BlockShapeError as exc:
        raise UnableToIngestBlocks(str(exc), field=f"blocks.{exc.block}.{exc.field}") from None
    result = readings_ingest(readings=arrays.readings, source=source, now=now, quality=arrays.quality)
    for reject in result.rejected:
        block, value = arrays.locate(reject["index"])
        reject["block"] = block
        reject["value"] = value
        reject["field"] = BLOCK_REJECT_FIELDS.get(Reject[reject["code"].upper()], "values")
    if idempotency_key:
        try:
            with transaction.atomic():
                IngestBatch.objects.create(
                    client=client,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    result=result.as_dict(),
                )
        except IntegrityError:
            return _replay(
                IngestBatch.objects.get(client=client, idempotency_key=idempotency_key), request_hash
            )
    return result


def _blocks_hash(blocks: list[ReadingBlockInput]) -> str:
    digest = hashlib.sha256(b"blocks")
    for block in blocks:
        start = block.start.astimezone(UTC).isoformat() if is_aware(block.start) else block.start.isoformat()
        header = [block.meter_serial, start, block.resolution_s]
        digest.update(json.dumps(header).encode())
        digest.update(json.dumps(block.values).encode())
        digest.update(json.dumps(block.qualities).encode())
    return digest.hexdigest()


@dataclass
class FileImportResult:
    result: IngestResult
    rows: int
    unknown_serials: list[str]
    meters_created: int


def readings_import_file(
    *,
    path,
    now: datetime,
    file_format: str = "auto",
    assume_tz: str | None = None,
    create_meters_in_zone: str | None = None,
    installed_at: datetime | None = None,
    feeder_code: str = "",
    region_code: str = "",
    all_or_nothing: bool = False,
    progress=None,
) -> FileImportResult:
    """Import a long or wide readings file (see metering.files); one validation and one merge."""
    from pathlib import Path

    from metering import files

    path = Path(path)
    if file_format == "auto":
        file_format = files.detect_format(path)
    created = 0
    if create_meters_in_zone:
        header_serials = _serials_in(path, file_format)
        created = meters_ensure(
            serials=header_serials,
            timezone=create_meters_in_zone,
            installed_at=installed_at or datetime(2000, 1, 1, tzinfo=UTC),
            feeder_code=feeder_code,
            region_code=region_code,
        )

    def lookup(serials: list[str]) -> dict[str, int]:
        return selectors.meter_ids_for_serials(serials=serials)

    if file_format == "long":
        parsed = files.read_long(path, lookup=lookup, assume_tz=assume_tz, progress=progress)
    else:

        def resolution_s(meter_ids: np.ndarray) -> np.ndarray:
            table = selectors.meter_table(meter_ids=np.unique(meter_ids[meter_ids >= 0]))
            pos = table.positions(meter_ids)
            return np.where(pos >= 0, table.resolution_s[np.where(pos >= 0, pos, 0)], 1800)

        parsed = files.read_wide(
            path, lookup=lookup, resolution_s=resolution_s, assume_tz=assume_tz, progress=progress
        )
    result = readings_ingest(
        readings=parsed.readings,
        source=Source.FILE,
        now=now,
        indexes=parsed.line_numbers,
        all_or_nothing=all_or_nothing,
    )
    return FileImportResult(result, len(parsed.readings), parsed.unknown_serials, created)


def _serials_in(path, file_format: str) -> list[str]:
    import pandas as pd

    if file_format == "wide":
        return [str(c).strip() for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns[1:]]
    from metering.files import LONG_ALIASES

    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    column = next(c for c in header if LONG_ALIASES.get(c.strip().lower()) == "serial")
    return (
        pd.read_csv(path, usecols=[column], dtype="string", encoding="utf-8-sig")[column]
        .dropna()
        .str.strip()
        .unique()
        .tolist()
    )


class UnableToRebuildReadingDays(DomainError, code="reading_days_invalid"): ...


@transaction.atomic
def reading_days_rebuild(*, start: datetime, end: datetime, meter_ids: list[int] | None = None) -> int:
    """Rebuild the packed reading days (`ReadingDay`) of the given meters (all when None) from the readings
    starting in `[start, end)`, e.g. after readings were written or deleted around the ingest (raw SQL, a
    restore); days left without readings lose their row.
    Every ingest path keeps them in step by itself; PostgreSQL only (0 elsewhere). Returns the days rebuilt.
    """
    check_period(start, end, fields=("start", "end"), error=UnableToRebuildReadingDays)
    return rebuild_reading_days(meter_ids=meter_ids, start=start, end=end)
