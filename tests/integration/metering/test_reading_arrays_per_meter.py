"""`meter_reading_arrays`: one row per meter (binary COPY of packed values on PostgreSQL), the same readings
as `reading_arrays`, sorted by start, window respected, meters without readings absent."""

from datetime import UTC, datetime

import numpy as np
import pytest

from metering.models import Quality
from metering.selectors.readings import meter_reading_arrays, reading_arrays
from tests.factories.metering import half_hours, ingest, make_meter

START = datetime(2024, 3, 30, 22, tzinfo=UTC)  # across the month (partition) boundary and the DST change


@pytest.mark.django_db
def test_one_row_per_meter_with_the_same_readings_as_the_per_reading_loader():
    first, second, empty = (make_meter(s) for s in ("RA-1", "RA-2", "RA-3"))
    # ingested out of order: later readings first
    ingest(first, half_hours(datetime(2024, 4, 1, 1, tzinfo=UTC), 4, ["1.0001", "2", "3", "4.5"]))
    ingest(first, half_hours(START, 6, "0.1234"))
    ingest(second, half_hours(START, 3, ["0", "7.25", "0.0001"]), quality=Quality.ESTIMATED)
    ids = np.array([first.pk, second.pk, empty.pk], dtype=np.int64)
    window = (datetime(2024, 3, 30, 22, 30, tzinfo=UTC), datetime(2024, 4, 1, 2, tzinfo=UTC))

    rows = {r.meter_id: r for r in meter_reading_arrays(meter_ids=ids, start=window[0], end=window[1])}

    assert set(rows) == {first.pk, second.pk}  # no readings, no row
    one = rows[first.pk]
    april = int(datetime(2024, 4, 1, 1, tzinfo=UTC).timestamp())
    assert one.start_s.tolist() == [int(START.timestamp()) + 1800 * i for i in range(1, 6)] + [
        april,
        april + 1800,
    ]
    assert one.kwh_e4.tolist() == [1234] * 5 + [10001, 20000]
    assert one.quality.tolist() == [Quality.ACTUAL] * 7
    two = rows[second.pk]
    assert two.kwh_e4.tolist() == [72500, 1]
    assert two.quality.tolist() == [Quality.ESTIMATED] * 2
    assert one.start_s.dtype == np.int64
    assert one.kwh_e4.dtype == np.int64

    flat = reading_arrays(meter_ids=ids, start=window[0], end=window[1])
    for meter_id, row in rows.items():
        mine = flat.meter_id == meter_id
        order = np.argsort(flat.start_s[mine])
        assert flat.start_s[mine][order].tolist() == row.start_s.tolist()
        assert flat.kwh_e4[mine][order].tolist() == row.kwh_e4.tolist()
        assert flat.quality[mine][order].tolist() == row.quality.tolist()
