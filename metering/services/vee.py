"""VEE over a period: find gaps, spikes and stuck registers against each meter's history; estimate gaps.

Set-based per chunk of meters: one query loads the chunk's readings for the period and HISTORY_DAYS
before it, `metering.vee` judges them as matrices, one query reads the chunk's stored issues of that
window, the new and changed issues are written in bulk, and the estimates go through `readings_ingest`
(quality ESTIMATED: an estimate never replaces an actual). Issues are written before estimates: if the
run stops in between, the next run finds the same gaps again and completes them. Running again changes
nothing.
"""

import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db import transaction
from django.db.models import Q

from core.errors import DomainError
from core.periods import check_instant, check_period
from metering import vee
from metering.models import DataIssue, Meter, Quality, Source
from metering.selectors import readings as selectors
from metering.services.readings import readings_ingest
from metering.validation import KWH_SCALE, ReadingArrays

_FAR_FUTURE_S = np.iinfo(np.int64).max // 2
_ISSUE_KINDS = (DataIssue.Kind.GAP, DataIssue.Kind.SPIKE, DataIssue.Kind.STUCK)
_METHOD_TEXT = {
    vee.Method.INTERPOLATION: "estimated by linear interpolation",
    vee.Method.PROFILE: (
        f"estimated from the same local weekday and slot over the previous {vee.PROFILE_WEEKS} weeks"
    ),
    vee.Method.NOT_ESTIMATED: "not estimated: no history",
}


class UnableToRunVee(DomainError, code="vee_period_invalid"): ...


@dataclass
class VeeReport:
    meters_checked: int = 0
    gaps_found: int = 0  # runs of missing intervals
    gap_intervals: int = 0
    intervals_estimated: int = 0  # estimates written
    intervals_unestimated: int = 0
    spikes: int = 0
    stuck_runs: int = 0
    issues_created: int = 0
    issues_updated: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def vee_run(
    *,
    period_start: datetime,
    period_end: datetime,
    as_of: datetime,
    meter_ids: list[int] | None = None,
    chunk_meters: int = 2000,
) -> VeeReport:
    """Run VEE for the meters installed during [period_start, period_end), judging intervals ended by
    `as_of`; create or update their data issues and write estimates for the gaps. Idempotent."""
    check_period(period_start, period_end, error=UnableToRunVee)
    check_instant(as_of, field="as_of", error=UnableToRunVee)
    if chunk_meters < 1:
        raise UnableToRunVee("chunk_meters must be positive.", field="chunk_meters")
    started = time.perf_counter()
    report = VeeReport()
    meters = _meters(period_start=period_start, period_end=period_end, meter_ids=meter_ids)
    report.meters_checked = len(meters.ids)
    run = _Run(
        period_start_s=_seconds(period_start),
        period_end_s=_seconds(period_end),
        as_of=as_of,
        report=report,
    )
    for at in range(0, len(meters.ids), chunk_meters):
        run.chunk(meters.take(slice(at, at + chunk_meters)))
    report.elapsed_s = round(time.perf_counter() - started, 3)
    return report


@dataclass
class _Meters:
    ids: np.ndarray  # int64, ascending
    resolution_s: np.ndarray
    timezone: np.ndarray  # object
    installed_s: np.ndarray
    removed_s: np.ndarray  # _FAR_FUTURE_S while installed

    def take(self, rows) -> "_Meters":
        return _Meters(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


def _meters(*, period_start: datetime, period_end: datetime, meter_ids: list[int] | None) -> _Meters:
    meters = Meter.objects.filter(installed_at__lt=period_end).filter(
        Q(removed_at__isnull=True) | Q(removed_at__gt=period_start)
    )
    if meter_ids is not None:
        meters = meters.filter(id__in=list(meter_ids))
    rows = list(
        meters.order_by("id").values_list(
            "id", "resolution_minutes", "meter_point__timezone", "installed_at", "removed_at"
        )
    )
    return _Meters(
        ids=np.array([r[0] for r in rows], dtype="int64"),
        resolution_s=np.array([r[1] * 60 for r in rows], dtype="int64"),
        timezone=np.array([r[2] for r in rows], dtype=object),
        installed_s=np.array([_seconds(r[3]) for r in rows], dtype="int64"),
        removed_s=np.array([_seconds(r[4]) if r[4] else _FAR_FUTURE_S for r in rows], dtype="int64"),
    )


@dataclass
class _Issue:
    meter_id: int
    kind: str
    start_s: int
    end_s: int
    detail: str
    estimated: bool = False
    cut: bool = False  # the run starts where the examined window starts: it may continue an earlier issue


class _Run:
    def __init__(self, *, period_start_s: int, period_end_s: int, as_of: datetime, report: VeeReport):
        self.period_start_s = period_start_s
        self.period_end_s = period_end_s
        self.as_of = as_of
        self.as_of_s = _seconds(as_of)
        self.report = report
        self.windows: dict[tuple[str, int], vee.Window] = {}

    def window(self, timezone: str, resolution_s: int) -> vee.Window:
        key = (timezone, resolution_s)
        if key not in self.windows:
            self.windows[key] = vee.window_build(
                timezone=timezone,
                resolution_s=resolution_s,
                period_start_s=self.period_start_s,
                period_end_s=self.period_end_s,
            )
        return self.windows[key]

    def chunk(self, meters: _Meters) -> None:
        loaded = selectors.reading_arrays(
            meter_ids=meters.ids,
            start=_datetime(vee.load_start(self.period_start_s)),
            end=_datetime(self.period_end_s),
        )
        issues: list[_Issue] = []
        estimates: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        groups = defaultdict(list)
        for i, key in enumerate(zip(meters.timezone.tolist(), meters.resolution_s.tolist(), strict=True)):
            groups[key].append(i)
        single = len(groups) == 1
        for (timezone, resolution_s), positions in groups.items():
            group = meters.take(np.array(positions))
            window = self.window(timezone, resolution_s)
            sel = slice(None) if single else np.isin(loaded.meter_id, group.ids)
            kwh, quality = vee.readings_matrix(
                window,
                n_rows=len(group.ids),
                rows=_rows_of(group.ids, loaded.meter_id[sel]),
                starts_s=loaded.start_s[sel],
                kwh_e4=loaded.kwh_e4[sel],
                quality=loaded.quality[sel],
            )
            expected = vee.expected_mask(
                window, lo_s=group.installed_s, hi_s=group.removed_s, as_of_s=self.as_of_s
            )
            findings = vee.assess(window, kwh, quality, expected)
            issues += self._issues(group.ids, window, kwh, findings)
            gaps = findings.gaps
            if len(gaps.estimate_row):
                starts = window.starts[gaps.estimate_col]
                estimates.append(
                    (group.ids[gaps.estimate_row], starts, starts + resolution_s, gaps.estimate_kwh_e4)
                )
        created, updated = _issues_save(
            issues,
            meter_ids=meters.ids,
            start=_datetime(vee.load_start(self.period_start_s)),
            end=_datetime(self.period_end_s),
        )
        self.report.issues_created += created
        self.report.issues_updated += updated
        if estimates:
            meter_id, start, end, kwh_e4 = (np.concatenate(parts) for parts in zip(*estimates, strict=True))
            result = readings_ingest(
                readings=ReadingArrays(
                    meter_id=meter_id,
                    start=start.astype("datetime64[s]"),
                    end=end.astype("datetime64[s]"),
                    kwh_e4=kwh_e4,
                    kwh_reject=np.zeros(len(meter_id), dtype="int8"),
                ),
                source=Source.ESTIMATION,
                now=self.as_of,
                quality=Quality.ESTIMATED,
            )
            self.report.intervals_estimated += result.accepted

    def _issues(
        self, ids: np.ndarray, window: vee.Window, kwh: np.ndarray, findings: vee.Findings
    ) -> list[_Issue]:
        report = self.report
        res = window.resolution_s
        starts = window.starts
        out = []
        gaps = findings.gaps
        lengths = gaps.lengths
        report.gaps_found += len(gaps.row)
        report.gap_intervals += int(lengths.sum())
        report.intervals_unestimated += int(lengths[gaps.method == vee.Method.NOT_ESTIMATED].sum())
        for row, first, end, n, method in zip(
            gaps.row.tolist(),
            gaps.start_col.tolist(),
            gaps.end_col.tolist(),
            lengths.tolist(),
            gaps.method.tolist(),
            strict=True,
        ):
            out.append(
                _Issue(
                    meter_id=int(ids[row]),
                    kind=DataIssue.Kind.GAP,
                    start_s=int(starts[first]),
                    end_s=int(starts[end - 1]) + res,
                    detail=f"{n} interval{'s' * (n != 1)} missing; {_METHOD_TEXT[vee.Method(method)]}",
                    estimated=method != vee.Method.NOT_ESTIMATED,
                    cut=first == window.period_col,
                )
            )
        spikes = findings.spikes
        report.spikes += len(spikes.row)
        for row, col, threshold in zip(
            spikes.row.tolist(), spikes.col.tolist(), spikes.threshold_e4.tolist(), strict=True
        ):
            out.append(
                _Issue(
                    meter_id=int(ids[row]),
                    kind=DataIssue.Kind.SPIKE,
                    start_s=int(starts[col]),
                    end_s=int(starts[col]) + res,
                    detail=(
                        f"{_kwh(kwh[row, col])} kWh is above the spike threshold {_kwh(threshold)} kWh "
                        f"(the greater of {vee.SPIKE_MEDIAN_FACTOR} × the {vee.HISTORY_DAYS}-day median "
                        f"and {_kwh(vee.spike_floor_e4(res))} kWh)"
                    ),
                )
            )
        stuck = findings.stuck
        report.stuck_runs += len(stuck.row)
        for row, first, end, value in zip(
            stuck.row.tolist(),
            stuck.start_col.tolist(),
            stuck.end_col.tolist(),
            stuck.kwh_e4.tolist(),
            strict=True,
        ):
            out.append(
                _Issue(
                    meter_id=int(ids[row]),
                    kind=DataIssue.Kind.STUCK,
                    start_s=int(starts[first]),
                    end_s=int(starts[end - 1]) + res,
                    detail=f"{_kwh(value)} kWh repeated for {end - first} consecutive intervals",
                    cut=first == 0,
                )
            )
        return out


def _issues_save(
    issues: list[_Issue], *, meter_ids: np.ndarray, start: datetime, end: datetime
) -> tuple[int, int]:
    """Create the new issues and update the changed ones of a chunk; return (created, updated).

    An issue is the same as a stored one of its meter and kind with the same start. A run cut by the
    window's start (a gap at the period start, a stuck run reaching back to the history start) continues
    a stored issue that overlaps or touches it, which is then extended instead of duplicated.
    """
    stored = list(
        DataIssue.objects.filter(
            meter_id__in=[int(i) for i in meter_ids],
            kind__in=_ISSUE_KINDS,
            starts_at__lt=end,
            ends_at__gte=start,
        ).order_by("starts_at", "id")
    )
    by_key = {(i.meter_id, i.kind, i.starts_at): i for i in stored}
    by_meter_kind = defaultdict(list)
    for issue in stored:
        by_meter_kind[(issue.meter_id, issue.kind)].append(issue)
    create: list[DataIssue] = []
    update: dict[int, DataIssue] = {}
    for found in issues:
        found_start, found_end = _datetime(found.start_s), _datetime(found.end_s)
        same = by_key.get((found.meter_id, found.kind, found_start))
        if same is not None:
            changes = {"ends_at": found_end, "detail": found.detail, "estimated": found.estimated}
        elif found.cut and (
            same := next(
                (
                    i
                    for i in by_meter_kind[(found.meter_id, found.kind)]
                    if i.starts_at < found_start <= i.ends_at
                ),
                None,
            )
        ):
            changes = {
                "ends_at": max(same.ends_at, found_end),
                "detail": same.detail,  # it describes the whole run, seen before the cut
                "estimated": same.estimated and found.estimated,
            }
        else:
            create.append(
                DataIssue(
                    meter_id=found.meter_id,
                    kind=found.kind,
                    starts_at=found_start,
                    ends_at=found_end,
                    detail=found.detail[:300],
                    estimated=found.estimated,
                )
            )
            continue
        changes["detail"] = changes["detail"][:300]
        if any(getattr(same, name) != value for name, value in changes.items()):
            for name, value in changes.items():
                setattr(same, name, value)
            update[same.pk] = same
    with transaction.atomic():
        DataIssue.objects.bulk_create(create, batch_size=2000, ignore_conflicts=True)
        DataIssue.objects.bulk_update(
            list(update.values()), ["ends_at", "detail", "estimated"], batch_size=2000
        )
    return len(create), len(update)


def _rows_of(ids: np.ndarray, meter_ids: np.ndarray) -> np.ndarray:
    """Position in the sorted `ids` of each meter id (all present): a lookup table when ids are dense."""
    span = int(ids[-1] - ids[0]) + 1
    if span > 50 * len(ids):
        return np.searchsorted(ids, meter_ids)
    row_of = np.zeros(span, dtype="int64")
    row_of[ids - ids[0]] = np.arange(len(ids))
    return row_of[meter_ids - ids[0]]


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _datetime(seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(seconds))


def _kwh(value_e4: float) -> str:
    return str(
        (Decimal(value_e4.item() if isinstance(value_e4, np.generic) else value_e4) / KWH_SCALE).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
    )


def data_issues_resolve(*, issue_ids: list[int]) -> int:
    """Mark open data issues resolved (staff looked at them); returns how many changed."""
    return DataIssue.objects.filter(pk__in=issue_ids, status=DataIssue.Status.OPEN).update(
        status=DataIssue.Status.RESOLVED
    )
