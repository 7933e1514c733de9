"""Fairness statistics and scenario transforms of the tariff comparison, against hand-computed values."""

from decimal import Decimal

import numpy as np
import pytest

from billing import comparison
from tests.unit.billing.test_engine import document

D = Decimal


def test_gini_of_bills_by_hand():
    # |differences| of (10, 20, 30, 40): 10,20,30,10,20,10 each twice = 200; 2 n² mean = 2·16·25 = 800
    assert comparison.gini([10, 20, 30, 40]) == pytest.approx(0.25)
    assert comparison.gini([5, 5, 5]) == 0.0
    # one holds everything: (n − 1) / n
    assert comparison.gini([0, 0, 0, 12]) == pytest.approx(0.75)


def test_gini_of_savings_with_negative_values_uses_the_absolute_mean():
    # (−10, 10, 30): |d| = 20, 40, 20 → 2·80 = 160; 2 · 9 · |10| = 180
    assert comparison.gini([-10, 10, 30]) == pytest.approx(160 / 180)
    assert comparison.gini([-5, 5]) is None
    assert comparison.gini([]) is None


def test_coefficient_of_variation_by_hand():
    # mean 25, population variance (225 + 25 + 25 + 225) / 4 = 125
    assert comparison.coefficient_of_variation([10, 20, 30, 40]) == pytest.approx(125**0.5 / 25)
    assert comparison.coefficient_of_variation([0, 0]) is None


def test_summary_counts_winners_and_losers_against_the_current_bill():
    current = {1: D("100.00"), 2: D("50.00"), 3: D("80.00"), 4: D("70.00")}
    candidate = {1: D("90.00"), 2: D("60.00"), 3: D("80.00"), 4: None}
    summary = comparison.summarise("TOU", candidate, current)
    assert (summary.accounts, summary.held, summary.total) == (3, 1, D("230.00"))
    assert (summary.mean, summary.median) == (D("76.67"), D("80.00"))
    assert (summary.winners, summary.losers, summary.unchanged) == (1, 1, 1)
    assert summary.mean_saving == D("0.00")  # (10 − 10 + 0) / 3
    assert summary.savings_gini is None  # zero mean saving


def test_prosumer_metrics_by_hand():
    consumption = np.array([1.0, 1.0, 2.0, 0.0])
    generation = np.array([0.0, 2.0, 1.0, 1.0])
    # self-consumed = 0 + 1 + 1 + 0 = 2; consumption 4, generation 4
    assert comparison.prosumer_metrics(consumption, generation) == (0.5, 0.5)


def test_price_level_scales_rates_and_standing_charge_half_up_to_six_places():
    doc = document(
        {
            "kind": "tou",
            "rates_per_kwh": {"day": "0.123457", "night": "0.10"},
            "weekday": ["day"] * 24,
            "weekend": ["night"] * 24,
        },
        standing_charge_per_day="0.45",
    )
    scaled = comparison.scale_document(doc, D("1.1"))
    assert dict(scaled.energy.rates_per_kwh) == {"day": D("0.135803"), "night": D("0.110000")}
    assert scaled.standing_charge_per_day == D("0.495000")


def test_elasticity_response_keeps_each_days_energy_and_moves_it_to_cheap_intervals():
    starts = np.datetime64("2024-01-01T00:00", "s") + np.arange(4) * np.timedelta64(6 * 3600, "s")
    kwh = np.array([1000, 1000, 1000, 1000], dtype=np.int64)
    shifted = comparison.elasticity_response(-0.5)(
        starts, kwh, np.array([100_000, 300_000, 100_000, 300_000])
    )
    assert abs(int(shifted.sum()) - 4000) <= 2
    assert shifted[0] > 1000 > shifted[1]


def test_pv_profile_integrates_to_the_annual_energy():
    starts = np.datetime64("2023-01-01T00:00", "s") + np.arange(365 * 48) * np.timedelta64(1800, "s")
    profile = comparison.pv_profile_kwh_e4(starts, 3000.0)
    assert profile.sum() / 10_000 == pytest.approx(3000.0, rel=0.01)
    assert profile[:12].sum() == 0  # no sun before 06:00
