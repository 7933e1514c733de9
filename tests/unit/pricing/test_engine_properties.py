"""Invariants of the rate engine, checked on generated tariffs and intervals."""

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine import (
    Event,
    PriceSeries,
    amount_e10,
    local_seconds,
    round_half_up_cents,
    tier_split,
    unit_rates,
)

PROPERTY = settings(max_examples=60, deadline=None, database=None)
YEAR_2000 = 946_684_800
YEAR_2040 = 2_208_988_800
HOUR = 3600
ZONES = ["Europe/London", "Europe/Berlin", "America/Chicago", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PERIODS = ["off_peak", "day", "peak", "super_off_peak"]

instants = st.lists(st.integers(YEAR_2000, YEAR_2040).map(lambda s: s - s % 60), max_size=200)
rates = st.decimals(min_value=-10, max_value=10, places=6).map(str)
schedule = st.one_of(
    st.lists(st.sampled_from(PERIODS), min_size=48, max_size=48),
    st.lists(st.sampled_from(PERIODS), min_size=24, max_size=24),
    st.lists(st.lists(st.sampled_from(PERIODS), min_size=24, max_size=24), min_size=12, max_size=12),
)


def as_starts(seconds: list[int]) -> np.ndarray:
    return np.array(seconds, dtype=np.int64).astype("datetime64[s]")


def hourly_market(
    seconds: list[int], prices_micros: st.SearchStrategy[int], data: st.DataObject
) -> PriceSeries:
    """Hourly prices covering every hour that one of `seconds` falls in."""
    hours = np.unique(np.array(seconds, dtype=np.int64) // HOUR * HOUR)
    values = data.draw(st.lists(prices_micros, min_size=len(hours), max_size=len(hours)))
    return PriceSeries(
        starts=as_starts(hours.tolist()),
        ends=as_starts((hours + HOUR).tolist()),
        values_micros=np.array(values, dtype=np.int64),
    )


@st.composite
def tou_energies(draw: st.DrawFn) -> dict:
    return {
        "kind": "tou",
        "rates_per_kwh": {name: draw(rates) for name in PERIODS},
        "weekday": draw(schedule),
        "weekend": draw(schedule),
        **({"holidays": draw(st.sampled_from(["GB", "US", "DE"]))} if draw(st.booleans()) else {}),
    }


@st.composite
def indexed_energies(draw: st.DrawFn) -> dict:
    bounds = sorted(draw(st.lists(rates, min_size=2, max_size=2)), key=Decimal)
    energy = {
        "kind": "indexed",
        "market": "DE-LU",
        "multiplier": draw(st.decimals(min_value=-3, max_value=3, places=6).map(str)),
        "adder_per_kwh": draw(rates),
        "floor_per_kwh": draw(st.sampled_from([bounds[0], None])),
        "cap_per_kwh": draw(st.sampled_from([bounds[1], None])),
    }
    if draw(st.booleans()):
        start, end = draw(st.lists(st.integers(0, 23), min_size=2, max_size=2, unique=True))
        energy["peak_adder"] = {"from": f"{start:02d}:00", "to": f"{end:02d}:30", "per_kwh": draw(rates)}
    return energy


price_micros = st.integers(-500_000_000, 4_000_000_000) | st.integers(-10_000, 10_000)


def in_window(time_of_day: int, peak: dict) -> bool:
    """Whether a UTC time of day (seconds) is in a peak window "HH:MM" to "HH:MM", which may wrap midnight."""
    start, end = (int(peak[key][:2]) * HOUR + int(peak[key][3:]) * 60 for key in ("from", "to"))
    return start <= time_of_day < end if start < end else (time_of_day >= start or time_of_day < end)


@PROPERTY
@given(seconds=instants, rate=rates)
def test_a_flat_rate_is_the_same_for_every_interval(tariff, seconds, rate):
    result = unit_rates(tariff({"kind": "flat", "rate_per_kwh": rate}), as_starts(seconds))

    assert len(result.rate_micros) == len(result.band) == len(seconds)
    assert set(result.rate_micros.tolist()) <= {int(Decimal(rate) * 1_000_000)}


@PROPERTY
@given(
    seconds=st.lists(st.integers(-2_208_988_800, 4_102_444_800), max_size=200),  # 1900 to 2100, any second
    zone=st.sampled_from(ZONES),
)
def test_local_seconds_are_the_wall_clock_of_the_zone_at_each_instant(seconds, zone):
    def wall_clock_seconds(second: int) -> int:
        local = datetime.fromtimestamp(second, UTC).astimezone(ZoneInfo(zone))
        return (local.replace(tzinfo=UTC) - EPOCH) // timedelta(seconds=1)

    assert local_seconds(as_starts(seconds), ZoneInfo(zone)).tolist() == [
        wall_clock_seconds(s) for s in seconds
    ]


@PROPERTY
@given(seconds=instants, energy=tou_energies(), zone=st.sampled_from(ZONES), data=st.data())
def test_tou_bands_are_defined_periods_and_depend_only_on_their_own_start(
    tariff, seconds, energy, zone, data
):
    document = tariff(energy, timezone=zone)
    starts = as_starts(seconds)
    order = np.array(data.draw(st.permutations(range(len(seconds)))), dtype=np.int64)

    result = unit_rates(document, starts)
    shuffled = unit_rates(document, starts[order])

    assert len(result.band) == len(result.rate_micros) == len(seconds)
    assert set(result.band.tolist()) <= set(PERIODS)
    expected = [int(Decimal(energy["rates_per_kwh"][band]) * 1_000_000) for band in result.band]
    assert result.rate_micros.tolist() == expected
    assert shuffled.band.tolist() == result.band[order].tolist()
    assert shuffled.rate_micros.tolist() == result.rate_micros[order].tolist()


@PROPERTY
@given(seconds=instants, energy=indexed_energies(), data=st.data())
def test_indexed_rates_follow_the_decimal_formula_within_floor_and_cap(tariff, seconds, energy, data):
    document = tariff(energy, currency="EUR", timezone="UTC")
    market = hourly_market(seconds, price_micros, data)

    result = unit_rates(document, as_starts(seconds), market=market)

    assert len(result.rate_micros) == len(seconds)
    prices = dict(zip(market.starts.astype(np.int64).tolist(), market.values_micros.tolist(), strict=True))
    for second, rate, band in zip(seconds, result.rates_as_decimals(), result.band, strict=True):
        hour = second // HOUR * HOUR
        expected = Decimal(energy["multiplier"]) * Decimal(prices[hour]).scaleb(-6) / 1000
        expected += Decimal(energy["adder_per_kwh"])
        in_peak = "peak_adder" in energy and in_window(hour % 86_400, energy["peak_adder"])
        assert band == ("indexed_peak" if in_peak else "indexed")
        if in_peak:
            expected += Decimal(energy["peak_adder"]["per_kwh"])
        expected = expected.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        if energy["floor_per_kwh"] is not None:
            assert rate >= Decimal(energy["floor_per_kwh"])
            expected = max(expected, Decimal(energy["floor_per_kwh"]))
        if energy["cap_per_kwh"] is not None:
            assert rate <= Decimal(energy["cap_per_kwh"])
            expected = min(expected, Decimal(energy["cap_per_kwh"]))
        assert rate == expected


@PROPERTY
@given(seconds=instants, energy=indexed_energies(), data=st.data())
def test_an_indexed_rate_depends_only_on_its_own_start(tariff, seconds, energy, data):
    document = tariff(energy, currency="EUR", timezone="Europe/Berlin")
    market = hourly_market(seconds, price_micros, data)
    starts = as_starts(seconds)
    order = np.array(data.draw(st.permutations(range(len(seconds)))), dtype=np.int64)

    result = unit_rates(document, starts, market=market)
    shuffled = unit_rates(document, starts[order], market=market)

    assert shuffled.rate_micros.tolist() == result.rate_micros[order].tolist()
    assert shuffled.band.tolist() == result.band[order].tolist()


DAY_2024 = 1_704_067_200  # 2024-01-01T00:00Z
events = st.lists(
    st.tuples(
        st.sampled_from(["critical_peak", "emergency"]),
        st.integers(DAY_2024, DAY_2024 + 86_400),
        st.integers(1, 6 * HOUR),
    ),
    max_size=8,
)


@PROPERTY
@given(seconds=st.lists(st.integers(DAY_2024, DAY_2024 + 86_400), max_size=100), declared=events)
def test_an_interval_inside_an_event_takes_its_rate_and_emergency_wins(tariff, seconds, declared):
    document = tariff(
        {"kind": "flat", "rate_per_kwh": "0.2450"},
        events={"critical_peak": {"rate_per_kwh": "0.40"}, "emergency": {"rate_per_kwh": "0.80"}},
    )
    windows = [(kind, start, start + length) for kind, start, length in declared]
    as_events = [
        Event(kind, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        for kind, start, end in windows
    ]

    bands = unit_rates(document, as_starts(seconds), events=as_events).band.tolist()

    def expected(second: int) -> str:
        active = {kind for kind, start, end in windows if start <= second < end}
        return "emergency" if "emergency" in active else "critical_peak" if active else "flat"

    assert bands == [expected(second) for second in seconds]


@st.composite
def tiered_energies(draw: st.DrawFn) -> dict:
    bounds = sorted(draw(st.sets(st.integers(1, 10_000_000), min_size=0, max_size=4)))
    tiers = [{"up_to_kwh": str(Decimal(bound).scaleb(-4)), "rate_per_kwh": draw(rates)} for bound in bounds]
    last_bound = draw(st.sampled_from([None, str(Decimal(bounds[-1] + 1).scaleb(-4))])) if bounds else None
    return {"kind": "tiered", "tiers": [*tiers, {"up_to_kwh": last_bound, "rate_per_kwh": draw(rates)}]}


@PROPERTY
@given(energy=tiered_energies(), kwh=st.lists(st.integers(0, 2_000_000), max_size=300))
def test_tier_split_conserves_energy_and_prices_each_tier_at_its_rate(tariff, energy, kwh):
    kwh_e4 = np.array(kwh, dtype=np.int64)

    split = tier_split(tariff(energy), kwh_e4)

    assert split.kwh_e4_by_tier.sum(axis=1).tolist() == kwh
    assert (split.kwh_e4_by_tier >= 0).all()
    assert sum(total for _, total, _, _ in split.per_tier) == sum(kwh)
    assert all(amount == total * rate for _, total, rate, amount in split.per_tier)
    rates_micros = np.array([rate for _, _, rate, _ in split.per_tier], dtype=np.int64)
    assert split.amount_e10 == sum(
        amount_e10(column, np.full(len(column), rates_micros[j]))
        for j, column in enumerate(split.kwh_e4_by_tier.T)
    )
    assert split.amount_e10 == sum(
        Decimal(total) * Decimal(energy["tiers"][j]["rate_per_kwh"]) * 10**6
        for j, (_, total, _, _) in enumerate(split.per_tier)
    )


@PROPERTY
@given(
    pairs=st.lists(
        st.tuples(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
        | st.tuples(st.integers(-9, 9), st.integers(-9, 9)),
        max_size=50,
    )
)
def test_amount_e10_is_the_exact_sum_of_products(pairs):
    kwh_e4 = np.array([kwh for kwh, _ in pairs], dtype=np.int64)
    rate_micros = np.array([rate for _, rate in pairs], dtype=np.int64)

    assert amount_e10(kwh_e4, rate_micros) == sum(kwh * rate for kwh, rate in pairs)


@PROPERTY
@given(amount=st.integers(-(10**20), 10**20) | st.integers(-(10**9), 10**9))
def test_rounding_to_cents_matches_decimal_round_half_up(amount):
    expected = Decimal(amount).scaleb(-10).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    assert round_half_up_cents(amount) == expected
