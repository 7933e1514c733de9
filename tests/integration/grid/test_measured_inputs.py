"""Loads linked to a feeder follow the feeder's measured aggregate, and the inputs say they are measured."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from grid.models import PowerFlowRun
from grid.services.feeders import network_feeders_map
from grid.services.inputs import measured_inputs, steps_of
from grid.services.network import network_cache_clear, network_import, network_model
from metering.models import LoadAggregate
from tests.factories.grid import ring_net

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def network():
    network_cache_clear()
    network, _ = network_import(name="ring", net=ring_net(pv_mw=0.0))
    yield network
    network_cache_clear()


def _feeder_day(code: str, evening_kwh: str, other_kwh: str) -> None:
    LoadAggregate.objects.bulk_create(
        LoadAggregate(
            level=LoadAggregate.Level.FEEDER,
            code=code,
            interval_start=DAY + timedelta(minutes=30 * k),
            interval_end=DAY + timedelta(minutes=30 * (k + 1)),
            import_kwh=Decimal(evening_kwh if 36 <= k < 40 else other_kwh),
            export_kwh=Decimal("0"),
            reading_count=10,
            estimated_count=0,
            updated_at=DAY,
        )
        for k in range(48)
    )


def test_a_feeder_with_measured_rows_shapes_its_loads_and_the_source_says_measured(network):
    network_feeders_map(network=network, feeder_codes=["A", "B"])
    _feeder_day("A", evening_kwh="30", other_kwh="10")
    built = network_model(network=network, as_of=DAY)
    steps = steps_of(start=DAY, count=96)

    inputs = measured_inputs(built=built, steps=steps)

    assert inputs.source == PowerFlowRun.LoadSource.MEASURED
    on_a, on_b = built.load_feeder == "A", built.load_feeder == "B"
    evening, night = 74, 8  # 18:30 and 02:00 UTC
    # A's mean-normalised shape: 10 kWh → 10/11.667, 30 kWh → 30/11.667 of the stored load
    np.testing.assert_allclose(
        inputs.load_p[evening, on_a] / built.model.load_p[on_a], 30 / (10 * 44 / 48 + 30 * 4 / 48)
    )
    np.testing.assert_allclose(
        inputs.load_p[night, on_a] / built.model.load_p[on_a], 10 / (10 * 44 / 48 + 30 * 4 / 48)
    )
    np.testing.assert_allclose(inputs.load_p[:, on_b], np.tile(built.model.load_p[on_b], (96, 1)))


def test_without_measured_rows_the_stored_loads_are_used_and_said_so(network):
    network_feeders_map(network=network, feeder_codes=["A", "B"])
    built = network_model(network=network, as_of=DAY)

    inputs = measured_inputs(built=built, steps=steps_of(start=DAY, count=4))

    assert inputs.source == PowerFlowRun.LoadSource.STORED
    np.testing.assert_allclose(inputs.load_p, np.tile(built.model.load_p, (4, 1)))
