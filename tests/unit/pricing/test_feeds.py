"""pricing.feeds: the registry and the offline wide-file feed (no database)."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from pricing.feeds import FeedError, FilePriceFeed, get_feed, match_column, read_wide

CSV = (
    "timestamp_utc,DE_LU_EUR_MWh,ERCOT_HB_HUBAVG_USD_MWh\n"
    "2024-03-30T22:00:00Z,10.5,1\n"
    "2024-03-30T23:00:00Z,-500.00,NaN\n"
    "2024-03-31T00:00:00Z,,2\n" + "".join(f"2024-03-31T{h:02d}:00:00Z,{h},3\n" for h in range(1, 24))
)


@pytest.fixture
def wide_file(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(CSV)
    return path


def market(path, column="DE_LU", timezone="Europe/Berlin"):
    return SimpleNamespace(
        code="DE-LU",
        timezone=timezone,
        interval_minutes=60,
        feed_config={"path": str(path), "column": column},
    )


def test_the_file_feed_is_registered_by_name():
    assert isinstance(get_feed("file"), FilePriceFeed)
    with pytest.raises(FeedError, match="No price feed named 'carrier-pigeon'"):
        get_feed("carrier-pigeon")


def test_a_column_is_found_by_its_full_name_or_its_prefix():
    header = ["DE_LU_EUR_MWh", "ERCOT_HB_HUBAVG_USD_MWh"]

    assert match_column(header, "DE_LU") == "DE_LU_EUR_MWh"
    assert match_column(header, "ERCOT_HB_HUBAVG_USD_MWh") == "ERCOT_HB_HUBAVG_USD_MWh"
    assert match_column(header, "FR") is None


def test_the_file_feed_returns_the_local_day_and_skips_missing_cells(wide_file):
    prices = get_feed("file").fetch_day_ahead(market(wide_file), dt.date(2024, 3, 31))

    # 2024-03-31 in Berlin is the spring-forward day: 23 hours from 2024-03-30T23:00Z to 2024-03-31T22:00Z.
    assert len(prices) + len(prices.skipped) == 23
    assert prices.skipped == [dt.datetime(2024, 3, 31, 0, tzinfo=dt.UTC)]
    assert prices[0] == (
        dt.datetime(2024, 3, 30, 23, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 31, 0, tzinfo=dt.UTC),
        Decimal("-500.00"),
    )
    assert prices[-1][0] == dt.datetime(2024, 3, 31, 21, tzinfo=dt.UTC)


def test_nan_cells_are_reported_per_column(wide_file):
    read = read_wide(wide_file, columns={"ERCOT_HB_HUBAVG_USD_MWh": 60})["ERCOT_HB_HUBAVG_USD_MWh"]

    assert len(read.prices) == 25
    assert read.skipped == [dt.datetime(2024, 3, 30, 23, tzinfo=dt.UTC)]


def test_the_file_feed_explains_a_missing_configuration_or_column(wide_file):
    with pytest.raises(FeedError, match="feed_config needs 'path' and 'column'"):
        FilePriceFeed().fetch_day_ahead(SimpleNamespace(code="X", feed_config={}), dt.date(2024, 3, 31))
    with pytest.raises(FeedError, match="no column 'FR'"):
        FilePriceFeed().fetch_day_ahead(market(wide_file, column="FR"), dt.date(2024, 3, 31))
    with pytest.raises(FeedError, match="No such file"):
        FilePriceFeed().fetch_day_ahead(market(wide_file.with_name("nope.csv")), dt.date(2024, 3, 31))
