"""Balancing with price bands: limits met where the response allows, peaks lowered, shedding compared."""

import numpy as np
import pytest

from grid.optimize.balancing import peak_shave, signal_balance, signal_what_if
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


def test_low_bands_fill_the_night_valley_without_making_a_new_peak():
    baseline = {"F1": evening_peak()}

    result = signal_balance(baseline_kw=baseline, limits_kw={"F1": 180.0}, hours=HOURS, model=model())

    low = [t for t, band in enumerate(result.bands) if band == "Low"]
    assert low  # the valley gets the lowest rate
    after = result.feeders["F1"].after_kw
    assert all(baseline["F1"][t] <= np.sort(baseline["F1"])[12] for t in low)  # lowest quarter of the day
    assert after[low] == pytest.approx(baseline["F1"][low] * 1.1)
    assert after[low].max() <= baseline["F1"].mean() + 1e-9
    assert result.valley_fill_kwh == pytest.approx(sum(baseline["F1"][t] * 0.1 * 0.5 for t in low))
    assert result.within_limits
    assert result.feeders["F1"].peak_after_kw <= 180.0


def test_no_valley_filling_when_asked_not_to():
    result = signal_balance(
        baseline_kw={"F1": evening_peak()},
        limits_kw={"F1": 180.0},
        hours=HOURS,
        model=model(),
        fill_band=None,
    )

    assert "Low" not in result.bands
    assert result.valley_fill_kwh == 0.0


def test_a_low_band_that_would_not_raise_load_is_not_used():
    result = signal_balance(
        baseline_kw={"F1": evening_peak()}, limits_kw={}, hours=HOURS, model=model(low=1.0)
    )

    assert "Low" not in result.bands


def test_peak_shaving_discharges_above_the_target_and_recharges_in_the_valley():
    load = np.array([50.0, 40.0, 60.0, 100.0, 120.0, 70.0])

    shave = peak_shave(
        load,
        target_kw=90.0,
        power_kw=20.0,
        energy_kwh=100.0,
        soc_initial_kwh=50.0,
        efficiency_charge=1.0,
        efficiency_discharge=1.0,
        dt_h=1.0,
    )

    assert shave.battery_kw.tolist() == [-10.0, -20.0, 0.0, 10.0, 20.0, 0.0]  # lowest load first
    assert shave.after_kw.max() == 100.0  # 120 − 20 (the power limits it)
    assert (shave.after_kw <= np.maximum(load, 90.0)).all()  # recharging makes no new peak
    assert shave.soc_kwh[-1] == pytest.approx(50.0)
    assert shave.discharge_kwh == shave.charge_kwh == 30.0
