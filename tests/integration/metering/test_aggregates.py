"""Feeder and region aggregates: exact sums with import and export apart, refresh of exactly the changed
keys, consumption of the dirty marks, rebuild, and the Celery tasks."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from metering.models import AggregateDirty, LoadAggregate, Quality, Source
from metering.partitions import partition_name
from metering.selectors.aggregates import load_aggregate_list
from metering.services.aggregates import aggregates_rebuild, aggregates_refresh
from metering.services.meters import meter_install, meter_point_create
from metering.services.readings import ReadingInput, readings_from_inputs, readings_ingest
from metering.tasks.aggregates import aggregates_refresh_task
from metering.tasks.readings import reading_partitions_ensure_task

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 4, tzinfo=UTC)
T1 = T0 + timedelta(minutes=30)
HALF_HOUR = timedelta(minutes=30)
NOW = datetime(2024, 3, 10, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
FEEDER, REGION = LoadAggregate.Level.FEEDER, LoadAggregate.Level.REGION


def meter(serial: str, *, feeder: str, region: str, direction: str = "IMPORT", point: str | None = None):
    point = point or f"MP-{serial}"
    meter_point_create(identifier=point, feeder_code=feeder, region_code=region)
    return meter_install(
        meter_point_identifier=point,
        serial=serial,
        direction=direction,
        installed_at=datetime(2024, 1, 1, tzinfo=UTC),
    )


def ingest(m, values: dict[datetime, str], *, now: datetime = NOW, quality: int = Quality.ACTUAL):
    readings = [ReadingInput(start, start + HALF_HOUR, Decimal(kwh)) for start, kwh in values.items()]
    return readings_ingest(
        readings=readings_from_inputs(m.pk, readings), source=Source.GRAPHQL, now=now, quality=quality
    )


def aggregates() -> dict[tuple[str, str, datetime], tuple]:
    return {
        (a.level, a.code, a.interval_start): (a.import_kwh, a.export_kwh, a.reading_count, a.estimated_count)
        for a in LoadAggregate.objects.all()
    }


def updated_at() -> dict[tuple[str, str, datetime], datetime]:
    return {(a.level, a.code, a.interval_start): a.updated_at for a in LoadAggregate.objects.all()}


@pytest.fixture
def grid():
    """Region R1: feeder F1 (a house importing and exporting, a house importing), feeder F2 (one house);
    region R2: feeder F3."""
    meters = {
        "a_imp": meter("A-IMP", feeder="F1", region="R1", point="MP-A"),
        "a_exp": meter("A-EXP", feeder="F1", region="R1", direction="EXPORT", point="MP-A"),
        "b_imp": meter("B-IMP", feeder="F1", region="R1"),
        "c_imp": meter("C-IMP", feeder="F2", region="R1"),
        "d_imp": meter("D-IMP", feeder="F3", region="R2"),
    }
    ingest(meters["a_imp"], {T0: "0.1234", T1: "0.2000"})
    ingest(meters["a_exp"], {T0: "0.0001", T1: "1.5000"})
    ingest(meters["b_imp"], {T0: "0.3333", T1: "0.0000"})
    ingest(meters["c_imp"], {T0: "2.0001", T1: "0.0999"})
    ingest(meters["d_imp"], {T0: "9.9999", T1: "0.0001"})
    return meters


EXPECTED = {
    (FEEDER, "F1", T0): (Decimal("0.4567"), Decimal("0.0001"), 3, 0),
    (FEEDER, "F1", T1): (Decimal("0.2000"), Decimal("1.5000"), 3, 0),
    (FEEDER, "F2", T0): (Decimal("2.0001"), Decimal("0.0000"), 1, 0),
    (FEEDER, "F2", T1): (Decimal("0.0999"), Decimal("0.0000"), 1, 0),
    (FEEDER, "F3", T0): (Decimal("9.9999"), Decimal("0.0000"), 1, 0),
    (FEEDER, "F3", T1): (Decimal("0.0001"), Decimal("0.0000"), 1, 0),
    (REGION, "R1", T0): (Decimal("2.4568"), Decimal("0.0001"), 4, 0),
    (REGION, "R1", T1): (Decimal("0.2999"), Decimal("1.5000"), 4, 0),
    (REGION, "R2", T0): (Decimal("9.9999"), Decimal("0.0000"), 1, 0),
    (REGION, "R2", T1): (Decimal("0.0001"), Decimal("0.0000"), 1, 0),
}


def test_refresh_sums_import_and_export_per_feeder_and_region_exactly(grid):
    assert AggregateDirty.objects.exists()

    written = aggregates_refresh(now=LATER)

    assert written == 10
    assert aggregates() == EXPECTED
    f1 = LoadAggregate.objects.get(level=FEEDER, code="F1", interval_start=T0)
    assert (f1.interval_end, f1.updated_at) == (T1, LATER)
    assert not AggregateDirty.objects.exists()  # the marks are consumed


def test_refresh_after_a_revision_updates_only_the_affected_keys(grid):
    aggregates_refresh(now=LATER)
    revised_at = LATER + timedelta(hours=1)
    ingest(grid["c_imp"], {T1: "0.5000"}, now=revised_at)

    written = aggregates_refresh(now=revised_at)

    assert written == 2
    changed = {(FEEDER, "F2", T1), (REGION, "R1", T1)}
    assert {k for k, at in updated_at().items() if at == revised_at} == changed
    assert aggregates() == {
        **EXPECTED,
        (FEEDER, "F2", T1): (Decimal("0.5000"), Decimal("0.0000"), 1, 0),
        (REGION, "R1", T1): (Decimal("0.7000"), Decimal("1.5000"), 4, 0),
    }
    assert not AggregateDirty.objects.exists()


def test_a_second_refresh_with_nothing_dirty_changes_nothing(grid):
    aggregates_refresh(now=LATER)
    before = list(LoadAggregate.objects.order_by("id").values())

    written = aggregates_refresh(now=LATER + timedelta(hours=2))

    assert written == 0
    assert list(LoadAggregate.objects.order_by("id").values()) == before


def test_estimated_readings_are_counted(grid):
    aggregates_refresh(now=LATER)
    t2 = T1 + HALF_HOUR
    ingest(grid["a_imp"], {t2: "0.0500"}, quality=Quality.ESTIMATED)
    ingest(grid["b_imp"], {t2: "0.0700"})

    aggregates_refresh(now=LATER)

    assert aggregates()[(FEEDER, "F1", t2)] == (Decimal("0.1200"), Decimal("0.0000"), 2, 1)
    assert aggregates()[(REGION, "R1", t2)] == (Decimal("0.1200"), Decimal("0.0000"), 2, 1)


def test_marks_beyond_the_batch_stay_for_the_next_refresh(grid):
    marks = AggregateDirty.objects.count()
    first = AggregateDirty.objects.order_by("id").first()

    written = aggregates_refresh(now=LATER, max_keys=1)

    assert written == 2  # the feeder and the region of the first mark
    assert AggregateDirty.objects.count() == marks - 1
    assert not AggregateDirty.objects.filter(id=first.id).exists()
    assert aggregates_refresh(now=LATER) == 10
    assert aggregates() == EXPECTED


def test_rebuild_recomputes_a_period_from_the_readings(grid):
    aggregates_refresh(now=LATER)
    LoadAggregate.objects.filter(level=FEEDER, code="F1").update(import_kwh=Decimal("123"))

    written = aggregates_rebuild(period_start=T0, period_end=T0 + timedelta(days=1), now=LATER)

    assert written == 10
    assert aggregates() == EXPECTED


def test_the_selector_lists_a_feeders_intervals_in_order(grid):
    aggregates_refresh(now=LATER)

    rows = load_aggregate_list(level=FEEDER, code="F1", period_start=T0, period_end=T1 + HALF_HOUR)

    assert [(a.interval_start, a.import_kwh) for a in rows] == [
        (T0, Decimal("0.4567")),
        (T1, Decimal("0.2000")),
    ]


def test_the_refresh_task_runs_and_returns_the_rows_written(grid):
    assert aggregates_refresh_task.delay().get() == 10
    assert aggregates_refresh_task.delay().get() == 0


def test_the_partitions_task_ensures_this_month_and_the_next_two(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2031, 11, 20, 12, tzinfo=UTC))
    months = [
        datetime(2031, 11, 1, tzinfo=UTC),
        datetime(2031, 12, 1, tzinfo=UTC),
        datetime(2032, 1, 1, tzinfo=UTC),
    ]

    created = reading_partitions_ensure_task.delay().get()

    if connection.vendor != "postgresql":
        assert created == []
        return
    assert created == [partition_name(m) for m in months]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'metering_reading'::regclass"
        )
        existing = {row[0] for row in cursor.fetchall()}
    assert {partition_name(m) for m in months} <= existing
    assert reading_partitions_ensure_task.delay().get() == []
