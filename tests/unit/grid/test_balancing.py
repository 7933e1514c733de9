"""Balancing with price bands: limits met where the response allows, peaks lowered, shedding compared."""

import numpy as np

from grid.optimize.balancing import signal_balance, signal_what_if
from grid.optimize.response import ResponseModel

HOURS = np.repeat(np.arange(24), 2)


def model(high: float = 0.85, low: float = 1.1) -> ResponseModel:
    return ResponseModel(
        factors={"Low": [low] * 24, "Normal": [1.0] * 24, "High": [high] * 24},
        band_factor={"Low": low, "Normal": 1.0, "High": high},
        raw_ratio={},
    )


def evening_peak(scale: float = 100.0) -> np.ndarray:
    return scale * (1 + np.exp(-((HOURS + 0.5 - 18.5) ** 2) / 4))


def test_high_bands_keep_a_feeder_within_its_limit_when_the_response_suffices():
    baseline = {"F1": evening_peak(), "F2": evening_peak(50)}

    result = signal_balance(baseline_kw=baseline, limits_kw={"F1": 180.0}, hours=HOURS, model=model())

    assert result.within_limits
    assert result.feeders["F1"].peak_after_kw <= 180.0
    assert result.feeders["F1"].peak_before_kw > 180.0
    high = [t for t, band in enumerate(result.bands) if band == "High"]
    assert high
    assert all(baseline["F1"][t] > 180.0 for t in high)  # only where the limit needs it
    assert result.shed_kwh_with_signal == 0.0 < result.shed_kwh_without_signal


def test_when_the_response_cannot_meet_the_limit_the_rest_is_left_to_shedding():
    result = signal_balance(
        baseline_kw={"F1": evening_peak()}, limits_kw={"F1": 150.0}, hours=HOURS, model=model()
    )

    assert not result.within_limits
    assert 0 < result.shed_kwh_with_signal < result.shed_kwh_without_signal


def test_without_limits_the_signal_lowers_the_peak():
    result = signal_balance(baseline_kw={"F1": evening_peak()}, limits_kw={}, hours=HOURS, model=model())

    assert result.peak_after_kw < result.peak_before_kw


def test_what_if_predicts_each_feeders_load_under_a_candidate_signal():
    bands = ["Low"] * 8 + ["Normal"] * 28 + ["High"] * 4 + ["Normal"] * 8

    outcome = signal_what_if(
        baseline_kw={"F1": np.full(48, 10.0)}, bands=bands, hours=HOURS, model=model(), limits_kw={"F1": 12}
    )

    after = outcome["F1"].after_kw
    assert after[0] == 11.0
    assert after[36] == 8.5
    assert outcome["F1"].peak_after_kw == 11.0
    assert outcome["F1"].limit_kw == 12
