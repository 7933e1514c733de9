"""Feeder limits from the network's transformer ratings when a network maps the feeder, else configured."""

from decimal import Decimal

import pytest

from grid.optimize.storage_limits import feeder_limits_from_transformers
from grid.services.feeders import network_feeders_map
from grid.services.network import network_get, network_import
from grid.services.storage import feeder_limit_set, feeder_limits_kw
from tests.factories.grid import small_net


def test_feeders_behind_one_transformer_share_its_rating_by_load():
    limits = feeder_limits_from_transformers(
        lines=[(1, 2), (2, 3), (1, 4)],
        bus_links=[],
        transformers=[(1, 0.4)],  # 400 kVA on bus 1
        loads=[(2, 0.03, "A"), (3, 0.01, "A"), (4, 0.04, "B"), (9, 1.0, "C")],  # bus 9: another island
        power_factor=0.9,
    )

    assert limits == pytest.approx({"A": 180.0, "B": 180.0})  # 400 × 0.9 kW, half each; C has no transformer


def test_an_open_line_makes_its_own_island_without_a_transformer():
    limits = feeder_limits_from_transformers(
        lines=[(1, 2)],  # the line 2-3 is open, so bus 3 is cut off
        bus_links=[(1, 5)],
        transformers=[(1, 0.1)],
        loads=[(2, 0.01, "A"), (3, 0.01, "B"), (5, 0.01, "C")],
        power_factor=1.0,
    )

    assert limits == pytest.approx({"A": 50.0, "C": 50.0})


@pytest.mark.django_db
def test_a_mapped_feeder_takes_its_transformers_rating_and_others_keep_their_configured_limit(settings):
    settings.GRID_STORAGE_POWER_FACTOR = 0.95
    network_import(name="small", net=small_net())
    network_feeders_map(network=network_get(name="small"), feeder_codes=["A", "B"])
    feeder_limit_set(feeder_code="A", import_limit_kw=Decimal("10"), export_limit_kw=Decimal("5"))
    feeder_limit_set(feeder_code="Z", import_limit_kw=Decimal("30"), export_limit_kw=Decimal("20"))

    limits = feeder_limits_kw(feeder_codes=["A", "B", "Z", "NONE"])

    # T1 is 250 kVA; the twelve 12 kW loads split evenly between A and B: 250 × 0.95 / 2 each
    assert limits["A"] == pytest.approx((118.75, 118.75))
    assert limits["B"] == pytest.approx((118.75, 118.75))
    assert limits["Z"] == (30.0, 20.0)
    assert "NONE" not in limits
