"""Interval blocks parsed in bulk: values, resolutions, qualities, flattened intervals."""

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from metering.blocks import Block, BlockShapeError, blocks_to_arrays, parse_resolution, parse_values
from metering.validation import Reject

QUALITIES = {"ACTUAL": 1, "ESTIMATED": 2, "SUBSTITUTED": 3}
START = datetime(2024, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "seconds"),
    [(1800, 1800), ("PT30M", 1800), ("PT1H", 3600), ("PT900S", 900), ("PT1H30M", 5400), ("300", 300)],
)
def test_a_resolution_is_seconds_or_an_iso_duration(given, seconds):
    assert parse_resolution(given) == seconds


@pytest.mark.parametrize("given", ["P1D", "PT", "30 minutes", 0, -60, True, 1.5, 90_000, None])
def test_a_bad_resolution_is_refused(given):
    with pytest.raises(ValueError, match="resolution"):
        parse_resolution(given)


def test_string_values_are_parsed_exactly_in_bulk():
    kwh_e4, reject = parse_values(["0.1234", "1", "12.5", "0.00010", "-0.5"])

    assert kwh_e4.tolist() == [1234, 10000, 125000, 1, -5000]
    assert reject.tolist() == [0, 0, 0, 0, 0]


def test_each_bad_value_is_marked_and_the_others_parsed():
    kwh_e4, reject = parse_values(
        ["0.1", "NaN", "1e3", "0.12345", " 0.2", "0.123400001", None, 0.25, True, "x"]
    )

    assert reject.tolist() == [
        0,
        Reject.INVALID_NUMBER,
        Reject.INVALID_NUMBER,
        Reject.TOO_PRECISE,
        0,
        Reject.TOO_PRECISE,
        Reject.INVALID_NUMBER,
        0,
        Reject.INVALID_NUMBER,
        Reject.INVALID_NUMBER,
    ]
    assert kwh_e4[[0, 4, 7]].tolist() == [1000, 2000, 2500]


def test_an_integer_beyond_any_float_is_an_invalid_number():
    kwh_e4, reject = parse_values([1, 10**400])

    assert kwh_e4[0] == 10_000
    assert reject.tolist() == [0, Reject.INVALID_NUMBER]


def test_number_values_are_parsed_and_too_precise_floats_refused():
    kwh_e4, reject = parse_values([0.1, 2, 0.00001, float("inf")])

    assert kwh_e4[:2].tolist() == [1000, 20000]
    assert reject.tolist() == [0, 0, Reject.TOO_PRECISE, Reject.INVALID_NUMBER]


def test_blocks_flatten_to_consecutive_intervals_with_their_qualities():
    arrays = blocks_to_arrays(
        [
            Block(7, START, 1800, ["0.1", "0.2", "0.3"]),
            Block(9, START + timedelta(hours=1), 3600, ["1", "2"], ["ESTIMATED", "bogus"]),
        ],
        QUALITIES,
        1,
    )

    readings = arrays.readings
    assert readings.meter_id.tolist() == [7, 7, 7, 9, 9]
    assert [str(s) for s in readings.start] == [
        "2024-01-15T00:00:00",
        "2024-01-15T00:30:00",
        "2024-01-15T01:00:00",
        "2024-01-15T01:00:00",
        "2024-01-15T02:00:00",
    ]
    assert (readings.end - readings.start).astype(int).tolist() == [1800, 1800, 1800, 3600, 3600]
    assert arrays.quality.tolist() == [1, 1, 1, 2, 1]
    assert readings.kwh_reject.tolist() == [0, 0, 0, 0, Reject.INVALID_QUALITY]
    assert arrays.offsets.tolist() == [0, 3, 5]
    assert [arrays.locate(i) for i in range(5)] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]


def test_a_start_in_another_offset_is_converted_and_a_naive_start_rejects_its_block():
    arrays = blocks_to_arrays(
        [
            Block(1, datetime(2024, 1, 15, 1, tzinfo=timezone(timedelta(hours=1))), 1800, ["0.1"]),
            Block(1, datetime(2024, 1, 15, tzinfo=None), 1800, ["0.1", "0.2"]),  # noqa: DTZ001 - naive on purpose
        ],
        QUALITIES,
        1,
    )

    assert str(arrays.readings.start[0]) == "2024-01-15T00:00:00"
    assert np.isnat(arrays.readings.start[1:]).all()


@pytest.mark.parametrize(
    ("block", "field"),
    [
        (Block(1, START, 1800, "0.1,0.2"), "values"),
        (Block(1, START, 1800, ["0.1"], "ACTUAL"), "qualities"),
        (Block(1, START, 1800, ["0.1", "0.2"], ["ACTUAL"]), "qualities"),
    ],
)
def test_a_malformed_block_is_refused_naming_its_field(block, field):
    with pytest.raises(BlockShapeError) as error:
        blocks_to_arrays([Block(1, START, 1800, ["0.1"]), block], QUALITIES, 1)

    assert (error.value.block, error.value.field) == (1, field)
