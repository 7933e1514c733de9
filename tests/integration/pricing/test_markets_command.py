"""manage.py market_prices_import on the committed US sample (public ISO day-ahead prices)."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pricing.models import Market, MarketPrice
from pricing.services.markets import market_ensure

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[3] / "data" / "prices"
FEBRUARY_2021 = DATA / "us_day_ahead_hourly_2021-02-10_2021-02-24_wide.csv"
NEW_YEAR_2020 = DATA / "us_day_ahead_hourly_2019-12-31_2020-01-01_wide.csv"


def run(*args: str) -> str:
    out = StringIO()
    call_command("market_prices_import", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_the_winter_storm_spike_is_stored_exactly():
    output = run(str(FEBRUARY_2021), "--markets", "ERCOT,CAISO-NP15", "--create-markets")

    price = MarketPrice.objects.get(
        market__code="ERCOT", interval_start=dt.datetime(2021, 2, 17, 6, tzinfo=dt.UTC)
    )
    assert price.price_per_mwh == Decimal("8995.26")
    assert price.interval_end == dt.datetime(2021, 2, 17, 7, tzinfo=dt.UTC)
    assert MarketPrice.objects.filter(market__code="ERCOT").count() == 360
    assert "ERCOT (ERCOT_HB_HUBAVG_USD_MWh): 360 accepted" in output
    assert not Market.objects.filter(code="NYISO-CAPITL").exists()


def test_missing_cells_are_skipped_and_counted_and_a_second_run_changes_nothing():
    first = run(str(NEW_YEAR_2020), "--create-markets")
    second = run(str(NEW_YEAR_2020))

    assert "ERCOT (ERCOT_HB_HUBAVG_USD_MWh): 18 accepted" in first
    assert "22 missing cells skipped" in first
    assert "NYISO-CAPITL (NYISO_CAPITL_USD_MWh): 19 accepted" in first
    assert "21 missing cells skipped" in first
    assert "CAISO-NP15 (CAISO_TH_NP15_USD_MWh): 40 accepted" in first
    assert (
        "ERCOT (ERCOT_HB_HUBAVG_USD_MWh): 0 accepted (0 revisions, 0 settled to review), 18 duplicates"
        in second
    )
    assert MarketPrice.objects.count() == 18 + 40 + 19


def test_from_and_to_restrict_the_imported_utc_dates():
    run(
        str(FEBRUARY_2021),
        "--markets",
        "ERCOT",
        "--create-markets",
        "--from",
        "2021-02-17",
        "--to",
        "2021-02-17",
    )

    assert MarketPrice.objects.count() == 24


def test_an_unknown_market_is_a_clear_error():
    with pytest.raises(CommandError, match="No market 'ERCOT' \\(create it with --create-markets\\)"):
        run(str(FEBRUARY_2021), "--markets", "ERCOT")
    with pytest.raises(CommandError, match="No market 'MARS'"):
        run(str(FEBRUARY_2021), "--markets", "MARS", "--create-markets")


def test_a_market_without_a_column_in_the_file_is_a_clear_error():
    market_ensure(code="DE-LU")

    with pytest.raises(CommandError, match="No column for market DE-LU"):
        run(str(FEBRUARY_2021), "--markets", "DE-LU")


def test_a_column_of_no_market_is_a_clear_error(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("timestamp_utc,ERCOT_HB_HUBAVG_USD_MWh,MOON_USD_MWh\n2021-02-17T06:00:00Z,1,2\n")

    with pytest.raises(CommandError, match="No market for column MOON_USD_MWh"):
        run(str(path), "--create-markets")


def test_market_create_makes_known_and_custom_markets():
    out = StringIO()
    call_command("market_create", "NYISO-CAPITL", stdout=out)
    call_command(
        "market_create",
        "AEMO-VIC",
        "--currency",
        "AUD",
        "--timezone",
        "Australia/Melbourne",
        "--interval-minutes",
        "30",
        "--results-at",
        "16:00",
        stdout=out,
    )

    assert "NYISO-CAPITL: USD, America/New_York, 60 min, results at 11:00 local" in out.getvalue()
    assert Market.objects.get(code="AEMO-VIC").interval_minutes == 30
    with pytest.raises(CommandError, match="give its currency"):
        call_command("market_create", "NOWHERE", stdout=out)
