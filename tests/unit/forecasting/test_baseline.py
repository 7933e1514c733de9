"""The recent-average demand baseline (moved here from pricing/dynamic.py)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from forecasting.modelling.baseline import average_load_by_slot

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2024, 1, 15)


def test_average_load_uses_the_last_seven_days_with_data_per_local_slot():
    rows = []
    for back in range(1, 11):  # ten days of history at 18:00 local, kWh = days back
        local = datetime.combine(DAY - timedelta(days=back), datetime.min.time(), tzinfo=BERLIN) + timedelta(
            hours=18
        )
        rows.append((local.astimezone(UTC), Decimal(back)))
    rows.append(
        (datetime.combine(DAY, datetime.min.time(), tzinfo=BERLIN).astimezone(UTC), Decimal(1000))
    )  # the day itself is ignored

    averages = average_load_by_slot(rows, zone=BERLIN, before=DAY)

    assert averages == {(18, 0): (Decimal("4.0000"), "7-day average of 7 days")}  # mean of 1..7
