from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest

from pricing.engine import (
    Event,
    MissingPrice,
    PriceSeries,
    UnpricedEvent,
    amount_e10,
    as_utc_seconds,
    local_seconds,
    round_half_up_cents,
    tier_split,
    unit_rates,
)

HALF_HOUR = np.timedelta64(1800, "s")
HOUR = np.timedelta64(3600, "s")
LONDON = ZoneInfo("Europe/London")

DAY = ["off_peak"] * 14 + ["day"] * 18 + ["peak"] * 6 + ["day"] * 10  # peak 16:00-19:00
WEEKEND = ["off_peak"] * 17 + ["day"] * 2 + ["off_peak"] * 5  # hourly; "day" 17:00-19:00
TOU = {
    "kind": "tou",
    "rates_per_kwh": {"off_peak": "0.08", "day": "0.15", "peak": "0.20"},
    "weekday": DAY,
    "weekend": WEEKEND,
}
SLOTS = [f"s{slot:02d}" for slot in range(48)]  # one period per half-hour slot, to read slots off the bands
BY_SLOT = {"kind": "tou", "rates_per_kwh": {name: f"0.{i:02d}" for i, name in enumerate(SLOTS)}}
INDEXED = {"kind": "indexed", "market": "DE-LU", "multiplier": "1.20", "adder_per_kwh": "0.05"}
PEAK = {"from": "16:00", "to": "19:00", "per_kwh": "0.12"}
TIERS = {
    "kind": "tiered",
    "tiers": [
        {"up_to_kwh": "300", "rate_per_kwh": "0.20"},
        {"up_to_kwh": "500", "rate_per_kwh": "0.25"},
        {"up_to_kwh": None, "rate_per_kwh": "0.30"},
    ],
}
EVENT_RATES = {"critical_peak": {"rate_per_kwh": "0.40"}, "emergency": {"rate_per_kwh": "0.80"}}


def at(*instants: str) -> np.ndarray:
    """UTC instants written as ISO strings ending in Z."""
    return np.array([instant.removesuffix("Z") for instant in instants], dtype="datetime64[s]")


def half_hours(first: str, count: int) -> np.ndarray:
    return at(first) + HALF_HOUR * np.arange(count)


def local_day(zone: ZoneInfo, day: date) -> np.ndarray:
    """The UTC starts of the half-hours of one local day, from local midnight to the next."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = midnight + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    first, last = as_utc_seconds([midnight, following])
    return np.arange(first, last, HALF_HOUR)


def hourly_market(first: str, prices_per_mwh: list[str]) -> PriceSeries:
    starts = at(first) + HOUR * np.arange(len(prices_per_mwh))
    values = np.array([int(Decimal(price) * 1_000_000) for price in prices_per_mwh], dtype=np.int64)
    return PriceSeries(starts=starts, ends=starts + HOUR, values_micros=values)


# flat and tiered


def test_a_flat_tariff_charges_one_rate_everywhere(tariff):
    rates = unit_rates(tariff({"kind": "flat", "rate_per_kwh": "0.2450"}), half_hours("2024-03-31T00:00Z", 4))

    assert rates.rate_micros.tolist() == [245_000] * 4
    assert rates.band.tolist() == ["flat"] * 4
    assert rates.rates_as_decimals() == [Decimal("0.245")] * 4


def test_a_tiered_tariff_quotes_its_first_tier_per_interval(tariff):
    rates = unit_rates(tariff(TIERS), half_hours("2024-01-01T00:00Z", 3))

    assert rates.rate_micros.tolist() == [200_000] * 3
    assert rates.band.tolist() == ["tier_1"] * 3


def test_an_interval_crossing_a_tier_boundary_is_split_at_the_boundary(tariff):
    # kWh 120.5, 150.25, 60, 180, 10.1234; cumulative 120.5, 270.75, 330.75, 510.75, 520.8734
    kwh_e4 = np.array([1_205_000, 1_502_500, 600_000, 1_800_000, 101_234], dtype=np.int64)

    split = tier_split(tariff(TIERS), kwh_e4)

    assert split.kwh_e4_by_tier.tolist() == [
        [1_205_000, 0, 0],
        [1_502_500, 0, 0],
        [292_500, 307_500, 0],  # 29.25 kWh up to 300, 30.75 kWh above
        [0, 1_692_500, 107_500],  # 169.25 kWh up to 500, 10.75 kWh above
        [0, 0, 101_234],
    ]
    assert split.per_tier == [
        ("tier_1", 3_000_000, 200_000, 600_000_000_000),  # 300 kWh x 0.20 = 60.00
        ("tier_2", 2_000_000, 250_000, 500_000_000_000),  # 200 kWh x 0.25 = 50.00
        ("tier_3", 208_734, 300_000, 62_620_200_000),  # 20.8734 kWh x 0.30 = 6.26202
    ]
    assert split.amount_e10 == 1_162_620_200_000
    assert round_half_up_cents(split.amount_e10) == Decimal("116.26")


def test_consumption_beyond_a_bounded_last_tier_stays_in_the_last_tier(tariff):
    energy = {
        "kind": "tiered",
        "tiers": [{"up_to_kwh": "100", "rate_per_kwh": "0.1"}, {"up_to_kwh": "200", "rate_per_kwh": "0.2"}],
    }

    split = tier_split(tariff(energy), np.array([2_500_000], dtype=np.int64))

    assert [(band, kwh) for band, kwh, _, _ in split.per_tier] == [
        ("tier_1", 1_000_000),
        ("tier_2", 1_500_000),
    ]


def test_tier_split_refuses_negative_consumption_and_other_kinds(tariff):
    with pytest.raises(ValueError, match="must not be negative"):
        tier_split(tariff(TIERS), np.array([10, -1], dtype=np.int64))
    with pytest.raises(TypeError, match="tiered tariff"):
        tier_split(tariff({"kind": "flat", "rate_per_kwh": "0.1"}), np.array([10], dtype=np.int64))


# time of use


@pytest.mark.parametrize(
    ("instant", "band", "rate"),
    [
        ("2024-06-04T06:30Z", "day", 150_000),  # Tuesday 07:30 BST
        ("2024-06-04T05:30Z", "off_peak", 80_000),  # 06:30 BST
        ("2024-06-04T15:00Z", "peak", 200_000),  # 16:00 BST
        ("2024-06-04T17:30Z", "peak", 200_000),  # 18:30 BST
        ("2024-06-04T18:00Z", "day", 150_000),  # 19:00 BST
        ("2024-01-09T16:00Z", "peak", 200_000),  # Tuesday 16:00 GMT
        ("2024-01-09T15:30Z", "day", 150_000),  # 15:30 GMT
        ("2024-06-01T15:00Z", "off_peak", 80_000),  # Saturday 16:00 BST
        ("2024-06-01T17:00Z", "day", 150_000),  # Saturday 18:00 BST
        ("2024-06-02T16:30Z", "day", 150_000),  # Sunday 17:30 BST: weekend schedule, hourly
        ("2024-06-03T15:00Z", "peak", 200_000),  # Monday 16:00 BST
    ],
)
def test_tou_takes_the_period_of_the_local_slot_and_weekends_use_the_weekend_schedule(
    tariff, instant, band, rate
):
    rates = unit_rates(tariff(TOU), at(instant))

    assert (rates.band[0], int(rates.rate_micros[0])) == (band, rate)


def test_gb_calendar_of_the_holidays_package_is_the_uk_wide_one():
    gb = holidays.country_holidays("GB", years=2024)

    assert date(2024, 12, 25) in gb
    assert date(2024, 5, 27) in gb  # Spring Bank Holiday
    assert date(2024, 8, 26) not in gb  # England's Summer Bank Holiday needs subdiv="ENG"


@pytest.mark.parametrize(
    ("instant", "with_holidays", "without_holidays"),
    [
        ("2024-12-25T17:00Z", "day", "peak"),  # Christmas Day, a Wednesday, 17:00 GMT
        ("2024-12-26T16:00Z", "off_peak", "peak"),  # Boxing Day, 16:00 GMT
        ("2024-12-24T17:00Z", "peak", "peak"),  # Christmas Eve is a working day
        ("2024-05-27T16:00Z", "day", "peak"),  # Spring Bank Holiday, a Monday, 17:00 BST
        ("2024-05-28T16:00Z", "peak", "peak"),  # the Tuesday after
    ],
)
def test_public_holidays_use_the_weekend_schedule(tariff, instant, with_holidays, without_holidays):
    assert unit_rates(tariff(TOU | {"holidays": "GB"}), at(instant)).band[0] == with_holidays
    assert unit_rates(tariff(TOU), at(instant)).band[0] == without_holidays


@pytest.mark.parametrize(
    ("instant", "uk_wide", "england"),
    [
        ("2024-04-01T16:00Z", "peak", "day"),  # Easter Monday, 17:00 BST: a bank holiday in England only
        ("2024-08-26T16:00Z", "peak", "day"),  # Summer Bank Holiday (England), 17:00 BST
        ("2024-12-25T17:00Z", "day", "day"),  # Christmas Day: everywhere
    ],
)
def test_a_subdivision_adds_its_own_holidays(tariff, instant, uk_wide, england):
    assert unit_rates(tariff(TOU | {"holidays": "GB"}), at(instant)).band[0] == uk_wide
    assert unit_rates(tariff(TOU | {"holidays": "GB-ENG"}), at(instant)).band[0] == england


def test_holidays_are_found_by_local_date(tariff):
    chicago = tariff(TOU | {"holidays": "US"}, timezone="America/Chicago")

    # 22:00 CDT on Independence Day (a Thursday) is 03:00Z on 5 July; 23:00 CDT on 3 July is 04:00Z on 4 July
    rates = unit_rates(chicago, at("2024-07-05T03:00Z", "2024-07-04T04:00Z", "2024-07-05T21:00Z"))

    assert rates.band.tolist() == ["off_peak", "day", "peak"]


def test_a_monthly_schedule_follows_the_local_month(tariff):
    summer = ["day"] * 24
    winter = ["off_peak"] * 24
    months = [summer if month in (5, 6, 7, 8) else winter for month in range(12)]  # June to September
    document = tariff(TOU | {"weekday": months, "weekend": months})

    rates = unit_rates(
        document,
        at(
            "2024-01-15T12:00Z",
            "2024-07-15T12:00Z",
            "2024-05-31T22:30Z",  # 23:30 BST on 31 May
            "2024-05-31T23:00Z",  # 00:00 BST on 1 June
            "2024-09-30T22:30Z",  # 23:30 BST on 30 September
            "2024-09-30T23:00Z",  # 00:00 BST on 1 October
        ),
    )

    assert rates.band.tolist() == ["off_peak", "day", "off_peak", "day", "day", "off_peak"]


@pytest.mark.parametrize(
    ("zone", "day", "count", "first_bands"),
    [
        # London: 01:00 GMT jumps to 02:00 BST (01:00Z); 02:00 BST falls back to 01:00 GMT (01:00Z)
        ("Europe/London", date(2024, 3, 31), 46, ["s00", "s01", "s04", "s05", "s06", "s07", "s08", "s09"]),
        ("Europe/London", date(2024, 10, 27), 50, ["s00", "s01", "s02", "s03", "s02", "s03", "s04", "s05"]),
        # Berlin: 02:00 CET jumps to 03:00 CEST (01:00Z); 03:00 CEST falls back to 02:00 CET (01:00Z)
        ("Europe/Berlin", date(2024, 3, 31), 46, ["s00", "s01", "s02", "s03", "s06", "s07", "s08", "s09"]),
        ("Europe/Berlin", date(2024, 10, 27), 50, ["s00", "s01", "s02", "s03", "s04", "s05", "s04", "s05"]),
        # Chicago: 02:00 CST jumps to 03:00 CDT (08:00Z); 02:00 CDT falls back to 01:00 CST (07:00Z)
        ("America/Chicago", date(2024, 3, 10), 46, ["s00", "s01", "s02", "s03", "s06", "s07", "s08", "s09"]),
        ("America/Chicago", date(2024, 11, 3), 50, ["s00", "s01", "s02", "s03", "s02", "s03", "s04", "s05"]),
    ],
)
def test_dst_days_classify_each_interval_by_its_own_local_start(tariff, zone, day, count, first_bands):
    document = tariff(BY_SLOT | {"weekday": SLOTS, "weekend": SLOTS}, timezone=zone)
    starts = local_day(ZoneInfo(zone), day)

    bands = unit_rates(document, starts).band.tolist()

    assert len(starts) == count
    assert bands[:8] == first_bands
    assert bands[-3:] == ["s45", "s46", "s47"]
    assert len(set(bands)) == min(count, 48)


def test_the_repeated_autumn_hour_gets_the_same_slots_twice(tariff):
    document = tariff(BY_SLOT | {"weekday": SLOTS, "weekend": SLOTS})

    rates = unit_rates(
        document, half_hours("2024-10-27T00:00Z", 4)
    )  # 01:00 BST, 01:30 BST, 01:00 GMT, 01:30 GMT

    assert rates.band.tolist() == ["s02", "s03", "s02", "s03"]
    assert rates.rate_micros.tolist() == [20_000, 30_000, 20_000, 30_000]


def wall_clock(zone: ZoneInfo, starts: np.ndarray) -> list[str]:
    """Each start's local time in `zone` as `local_seconds` gives it, as ISO text without a zone."""
    return [str(second) for second in local_seconds(starts, zone).astype("datetime64[s]")]


def test_local_times_on_the_london_spring_day_skip_the_hour_from_one_to_two():
    starts = at("2024-03-31T00:30Z", "2024-03-31T00:59:59Z", "2024-03-31T01:00Z", "2024-03-31T01:30Z")

    assert wall_clock(LONDON, starts) == [
        "2024-03-31T00:30:00",
        "2024-03-31T00:59:59",
        "2024-03-31T02:00:00",
        "2024-03-31T02:30:00",
    ]


def test_local_times_on_the_london_autumn_day_repeat_the_hour_from_one_to_two():
    starts = at("2024-10-27T00:30Z", "2024-10-27T00:59:59Z", "2024-10-27T01:00Z", "2024-10-27T01:30Z")

    assert wall_clock(LONDON, starts) == [
        "2024-10-27T01:30:00",
        "2024-10-27T01:59:59",
        "2024-10-27T01:00:00",
        "2024-10-27T01:30:00",
    ]


@pytest.mark.parametrize("day", [date(2024, 3, 31), date(2024, 10, 27)])
def test_local_times_on_london_dst_days_match_the_zone_for_every_second_near_the_change(day):
    change = at(f"{day.isoformat()}T01:00Z")[0]
    starts = change + np.arange(-3600, 3600, dtype=np.int64).astype("timedelta64[s]")

    expected = [
        datetime.fromtimestamp(second, UTC).astimezone(LONDON).replace(tzinfo=None).isoformat()
        for second in starts.astype(np.int64).tolist()
    ]

    assert wall_clock(LONDON, starts) == expected


def test_local_times_span_years_in_any_order_and_an_empty_array_has_none():
    starts = at("2025-06-01T12:00Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00Z", "2026-01-01T00:00Z")

    assert wall_clock(LONDON, starts) == [
        "2025-06-01T13:00:00",
        "2023-12-31T23:59:59",
        "2024-01-01T00:00:00",
        "2026-01-01T00:00:00",
    ]
    assert local_seconds(at(), LONDON).tolist() == []


def test_an_hourly_schedule_covers_both_half_hours(tariff):
    hourly = [f"s{hour:02d}" for hour in range(24)]
    document = tariff(BY_SLOT | {"weekday": hourly, "weekend": hourly})

    assert unit_rates(document, half_hours("2024-01-09T16:00Z", 3)).band.tolist() == ["s16", "s16", "s17"]


# indexed


@pytest.mark.parametrize(
    ("energy", "price_per_mwh", "expected_micros", "band"),
    [
        # 1.20 x 100.00 / 1000 + 0.05 = 0.17; in the peak window + 0.12 = 0.29 (14:00Z is 16:00 CEST)
        (INDEXED, "100.00", 170_000, "indexed"),
        (INDEXED | {"peak_adder": PEAK}, "100.00", 170_000, "indexed"),
        # DE-LU cleared at -500.00 EUR/MWh at 2023-07-02T12:00Z: 1.20 x -0.5 + 0.05 = -0.55
        (INDEXED, "-500.00", -550_000, "indexed"),
        (INDEXED | {"floor_per_kwh": "0.00"}, "-500.00", 0, "indexed"),
        (INDEXED | {"floor_per_kwh": "-0.10", "cap_per_kwh": None}, "-500.00", -100_000, "indexed"),
        # 1.20 x 300 / 1000 + 0.05 = 0.41, capped
        (INDEXED | {"cap_per_kwh": "0.25"}, "300.00", 250_000, "indexed"),
        # 1.05 x 0.01 / 1000 = 0.0000105: a tie on the 7th place rounds away from zero (banker's gives 10)
        (INDEXED | {"multiplier": "1.05", "adder_per_kwh": "0"}, "0.01", 11, "indexed"),
        (INDEXED | {"multiplier": "1.05", "adder_per_kwh": "0"}, "-0.01", -11, "indexed"),
        # 1.05 x 0.03 / 1000 = 0.0000315 -> 0.000032; 1.000001 x 123.45 / 1000 = 0.12345012345 -> 0.123450
        (INDEXED | {"multiplier": "1.05", "adder_per_kwh": "0"}, "0.03", 32, "indexed"),
        (INDEXED | {"multiplier": "1.000001", "adder_per_kwh": "0"}, "123.45", 123_450, "indexed"),
        # 0.5 x -0.003 / 1000 = -0.0000015 -> -0.000002, then + 0.000001 = -0.000001
        (INDEXED | {"multiplier": "0.5", "adder_per_kwh": "0.000001"}, "-0.003", -1, "indexed"),
    ],
)
def test_indexed_rates_outside_the_peak_window(tariff, energy, price_per_mwh, expected_micros, band):
    market = hourly_market("2023-07-02T12:00Z", [price_per_mwh])

    rates = unit_rates(
        tariff(energy, currency="EUR", timezone="Europe/Berlin"), at("2023-07-02T12:00Z"), market=market
    )

    assert (int(rates.rate_micros[0]), rates.band[0]) == (expected_micros, band)


@pytest.mark.parametrize(
    ("energy", "price_per_mwh", "expected_micros"),
    [
        (INDEXED | {"peak_adder": PEAK}, "100.00", 290_000),  # 0.17 + 0.12
        (INDEXED | {"peak_adder": PEAK, "cap_per_kwh": "0.25"}, "100.00", 250_000),
        (INDEXED | {"peak_adder": PEAK, "floor_per_kwh": "0.00"}, "-500.00", 0),  # -0.55 + 0.12 = -0.43
        (INDEXED | {"peak_adder": PEAK}, "-500.00", -430_000),
    ],
)
def test_indexed_rates_inside_the_peak_window(tariff, energy, price_per_mwh, expected_micros):
    market = hourly_market("2023-07-02T14:00Z", [price_per_mwh])  # 16:00 CEST

    rates = unit_rates(
        tariff(energy, currency="EUR", timezone="Europe/Berlin"), at("2023-07-02T14:00Z"), market=market
    )

    assert (int(rates.rate_micros[0]), rates.band[0]) == (expected_micros, "indexed_peak")


def test_half_hours_take_the_hourly_price_containing_their_start_and_the_peak_window_is_local(tariff):
    document = tariff(INDEXED | {"peak_adder": PEAK}, currency="EUR", timezone="Europe/Berlin")
    market = hourly_market("2023-07-02T13:00Z", ["100.00", "200.00", "100.00", "100.00", "100.00", "50.00"])

    rates = unit_rates(document, half_hours("2023-07-02T13:30Z", 11), market=market)

    # 13:30Z (15:30 CEST) .. 18:30Z (20:30 CEST); peak 16:00-19:00 CEST is 14:00Z-17:00Z
    assert rates.rate_micros.tolist() == [
        170_000,
        410_000,  # 1.2 x 200 / 1000 + 0.05 + 0.12
        410_000,
        290_000,
        290_000,
        290_000,
        290_000,
        170_000,  # 17:00Z = 19:00 CEST, outside [16:00, 19:00)
        170_000,
        110_000,  # 1.2 x 50 / 1000 + 0.05
        110_000,
    ]
    assert rates.band.tolist() == ["indexed"] + ["indexed_peak"] * 6 + ["indexed"] * 4


def test_the_peak_window_is_judged_on_the_start_of_the_market_interval(tariff):
    # TARIFFS.md prices each market interval, then a reading takes the rate of the one containing its start
    document = tariff(INDEXED | {"peak_adder": PEAK | {"from": "16:30"}}, currency="EUR", timezone="UTC")
    market = hourly_market("2023-07-02T16:00Z", ["100.00", "100.00"])

    rates = unit_rates(document, half_hours("2023-07-02T16:00Z", 4), market=market)

    assert rates.band.tolist() == ["indexed", "indexed", "indexed_peak", "indexed_peak"]


def test_a_peak_window_may_wrap_past_midnight(tariff):
    document = tariff(
        INDEXED | {"peak_adder": PEAK | {"from": "22:00", "to": "02:00"}}, currency="EUR", timezone="UTC"
    )
    market = hourly_market("2023-07-02T21:00Z", ["100.00"] * 6)

    rates = unit_rates(document, at("2023-07-02T21:00Z") + HOUR * np.arange(6), market=market)

    assert rates.band.tolist() == [
        "indexed",
        "indexed_peak",
        "indexed_peak",
        "indexed_peak",
        "indexed_peak",
        "indexed",
    ]


def test_an_interval_without_a_market_price_raises_naming_its_utc_start(tariff):
    document = tariff(INDEXED, currency="EUR", timezone="Europe/Berlin")
    market = PriceSeries(
        starts=at("2023-07-02T03:00Z", "2023-07-02T05:00Z"),
        ends=at("2023-07-02T04:00Z", "2023-07-02T06:00Z"),
        values_micros=np.array([1, 2], dtype=np.int64),
    )

    with pytest.raises(MissingPrice, match=r"2023-07-02T04:00:00Z \(2 intervals uncovered\)") as caught:
        unit_rates(document, half_hours("2023-07-02T03:00Z", 6), market=market)
    assert caught.value.start == datetime(2023, 7, 2, 4, tzinfo=UTC)
    assert caught.value.code == "missing_price"
    with pytest.raises(MissingPrice, match="2023-07-02T02:30:00Z"):
        unit_rates(document, half_hours("2023-07-02T02:30Z", 2), market=market)


def test_an_indexed_tariff_needs_a_market_series(tariff):
    with pytest.raises(ValueError, match="market"):
        unit_rates(tariff(INDEXED), at("2023-07-02T03:00Z"))


# dynamic


def test_a_dynamic_tariff_charges_the_published_rates(tariff):
    starts = half_hours("2024-01-01T00:00Z", 3)
    published = PriceSeries(
        starts=starts, ends=starts + HALF_HOUR, values_micros=np.array([123_456, -5_000, 0], dtype=np.int64)
    )

    rates = unit_rates(tariff({"kind": "dynamic", "market": "GB"}), starts[::-1], published=published)

    assert rates.rate_micros.tolist() == [0, -5_000, 123_456]
    assert rates.band.tolist() == ["dynamic"] * 3
    with pytest.raises(
        MissingPrice, match="no published rate covers the interval starting 2024-01-01T01:30:00Z"
    ):
        unit_rates(
            tariff({"kind": "dynamic", "market": "GB"}),
            half_hours("2024-01-01T01:00Z", 2),
            published=published,
        )


# events


def test_events_replace_the_rate_and_emergency_wins_over_critical_peak(tariff):
    document = tariff({"kind": "flat", "rate_per_kwh": "0.2450"}, events=EVENT_RATES)
    events = [
        Event("emergency", datetime(2024, 1, 9, 17, 30, tzinfo=UTC), datetime(2024, 1, 9, 18, tzinfo=UTC)),
        Event(
            "critical_peak",
            datetime(2024, 1, 9, 16, 30, tzinfo=LONDON),
            datetime(2024, 1, 9, 18, 30, tzinfo=LONDON),
        ),
    ]

    rates = unit_rates(document, half_hours("2024-01-09T16:00Z", 6), events=events)

    assert rates.band.tolist() == [
        "flat",
        "critical_peak",
        "critical_peak",
        "emergency",
        "critical_peak",
        "flat",
    ]
    assert rates.rate_micros.tolist() == [245_000, 400_000, 400_000, 800_000, 400_000, 245_000]


def test_overlapping_and_nested_events_of_one_kind_cover_their_union(tariff):
    document = tariff({"kind": "flat", "rate_per_kwh": "0.2450"}, events=EVENT_RATES)
    windows = [("16:00", "19:00"), ("16:30", "17:00"), ("19:30", "20:30"), ("20:00", "21:00")]
    events = [
        Event("critical_peak", *(datetime.fromisoformat(f"2024-01-09T{clock}Z") for clock in window))
        for window in windows
    ]

    bands = unit_rates(document, half_hours("2024-01-09T15:30Z", 12), events=events).band.tolist()

    assert bands == ["flat"] + ["critical_peak"] * 6 + ["flat"] + ["critical_peak"] * 3 + ["flat"]


def test_events_override_tou_bands_too(tariff):
    document = tariff(TOU, events=EVENT_RATES)
    event = Event("critical_peak", datetime(2024, 1, 9, 15, tzinfo=UTC), datetime(2024, 1, 9, 17, tzinfo=UTC))

    rates = unit_rates(document, half_hours("2024-01-09T15:00Z", 5), events=[event])

    assert rates.band.tolist() == ["critical_peak"] * 4 + ["peak"]


def test_an_event_the_tariff_does_not_price_is_an_error(tariff):
    document = tariff(
        {"kind": "flat", "rate_per_kwh": "0.2450"}, events={"critical_peak": {"rate_per_kwh": "0.4"}}
    )
    event = Event("emergency", datetime(2024, 1, 9, 16, tzinfo=UTC), datetime(2024, 1, 9, 17, tzinfo=UTC))

    with pytest.raises(UnpricedEvent, match="emergency"):
        unit_rates(document, half_hours("2024-01-09T16:00Z", 2), events=[event])


def test_events_must_be_aware_and_not_empty():
    with pytest.raises(ValueError, match="timezone-aware"):
        Event("emergency", datetime(2024, 1, 9, 16), datetime(2024, 1, 9, 17))  # noqa: DTZ001
    with pytest.raises(ValueError, match="end after"):
        Event("emergency", datetime(2024, 1, 9, 16, tzinfo=UTC), datetime(2024, 1, 9, 16, tzinfo=UTC))
    with pytest.raises(ValueError, match="kind"):
        Event("blackout", datetime(2024, 1, 9, 16, tzinfo=UTC), datetime(2024, 1, 9, 17, tzinfo=UTC))  # type: ignore[arg-type]


# representation and arithmetic


def test_as_utc_seconds_converts_aware_datetimes_and_refuses_naive_ones():
    assert (
        as_utc_seconds([datetime(2024, 7, 1, 1, 30, tzinfo=LONDON)]).tolist()
        == at("2024-07-01T00:30Z").tolist()
    )
    assert as_utc_seconds([]).dtype == np.dtype("datetime64[s]")
    with pytest.raises(ValueError, match="naive"):
        as_utc_seconds([datetime(2024, 7, 1)])  # noqa: DTZ001
    with pytest.raises(ValueError, match="whole second"):
        as_utc_seconds([datetime(2024, 7, 1, 0, 0, 0, 500, tzinfo=UTC)])


def test_starts_must_be_datetime64_seconds(tariff):
    with pytest.raises(TypeError, match=r"datetime64\[s\]"):
        unit_rates(
            tariff({"kind": "flat", "rate_per_kwh": "1"}), at("2024-01-01T00:00Z").astype("datetime64[ms]")
        )


def test_price_series_must_be_sorted_and_not_overlap():
    with pytest.raises(ValueError, match="overlap"):
        PriceSeries(
            starts=at("2024-01-01T00:00Z", "2024-01-01T00:30Z"),
            ends=at("2024-01-01T01:00Z", "2024-01-01T01:30Z"),
            values_micros=np.array([1, 2], dtype=np.int64),
        )


def test_no_intervals_give_no_rates(tariff):
    rates = unit_rates(tariff(TOU | {"holidays": "GB"}), at())

    assert (len(rates.rate_micros), len(rates.band)) == (0, 0)


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        (10_050_000_000, "1.01"),  # 1.005
        (-10_050_000_000, "-1.01"),  # -1.005: away from zero
        (10_049_999_999, "1.00"),
        (-49_999_999, "0.00"),
        (-50_000_000, "-0.01"),
        (0, "0.00"),
        (1_162_620_200_000, "116.26"),
    ],
)
def test_amounts_round_half_up_to_cents(amount, rounded):
    result = round_half_up_cents(amount)

    assert str(result) == rounded


def test_amount_e10_is_exact_beyond_int64():
    kwh_e4 = np.full(1000, 10**9, dtype=np.int64)  # 100,000 kWh each
    rate_micros = np.full(1000, 10**9, dtype=np.int64)  # 1,000 per kWh

    assert amount_e10(kwh_e4, rate_micros) == 10**21
    assert amount_e10(np.array([3, -2], dtype=np.int64), np.array([245_000, 1], dtype=np.int64)) == 734_998
    with pytest.raises(TypeError, match="integer"):
        amount_e10(np.array([0.5]), np.array([245_000]))
