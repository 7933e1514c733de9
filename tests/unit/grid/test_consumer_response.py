"""The consumer response estimated from the committed London trial sample (January 2013, 300 households)."""

from pathlib import Path

import numpy as np

from grid.optimize.response import lcl_read, predicted_band_change, response_estimate, trial_model

DATA = Path(__file__).resolve().parents[3] / "data" / "households"


def january():
    return lcl_read(
        DATA / "lcl_2013_300_households_january_wide.csv",
        DATA / "lcl_household_info_300.csv",
        DATA / "lcl_dtou_tariff_schedule_2013.csv",
    )


def test_tou_households_use_less_than_the_control_group_in_high_periods():
    consumption, groups, bands = january()

    model = response_estimate(consumption, groups, bands)

    assert model.households == {"ToU": 50, "Std": 250}
    assert model.intervals["High"] == 60
    # the trial's known result: about 15 % less than Std households in High periods (here January only)
    assert 0.75 < model.raw_ratio["High"] < 0.9
    # against their own Normal-band level the response is smaller, and Low bands raise consumption
    assert model.band_factor["High"] < 0.97
    assert model.band_factor["Low"] > 1.03
    assert len(model.factors["High"]) == 24


def test_the_model_predicts_load_under_a_band_signal():
    model = trial_model()
    baseline = np.full(4, 2.0)

    predicted = model.predict(baseline, ["Normal", "High", "Low", "High"], np.array([10, 18, 13, 18]))

    assert predicted[0] == 2.0
    assert predicted[1] < 2.0 < predicted[2]
    assert predicted[1] == predicted[3]


def test_measured_and_predicted_changes_are_reported_per_band():
    consumption, groups, bands = january()
    model = response_estimate(consumption, groups, bands)

    report = predicted_band_change(model, consumption, groups, bands)

    assert report["High"]["measured_vs_own_normal_pct"] < 0
    assert (
        abs(report["High"]["predicted_vs_own_normal_pct"] - report["High"]["measured_vs_own_normal_pct"]) < 3
    )


def test_the_response_hook_on_unit_rates_applies_the_band_nearest_each_rate_at_the_local_hour():
    from grid.optimize.response import ResponseModel, rate_response

    model = ResponseModel(
        factors={
            "Low": [1.1] * 24,
            "Normal": [1.0] * 24,
            "High": [0.9] * 12 + [0.8] * 12,  # a stronger response in the afternoon and evening
        },
        band_factor={"Low": 1.1, "Normal": 1.0, "High": 0.85},
        raw_ratio={},
    )
    hook = rate_response(
        model, band_rates_per_kwh={"Low": 0.04, "Normal": 0.12, "High": 0.67}, zone="Europe/London"
    )
    # 11:30 UTC in July is 12:30 BST (afternoon factor); 02:00 UTC is 03:00 BST
    starts = np.array(["2013-07-01T11:30", "2013-07-01T02:00", "2013-07-01T12:00"], dtype="datetime64[s]")
    rates = np.array([600_000, 50_000, 120_000])  # micro-units per kWh: High, Low, Normal

    kwh_e4 = hook(starts, np.array([10_000, 10_000, 10_000]), rates)

    assert kwh_e4.tolist() == [8_000, 11_000, 10_000]
    assert kwh_e4.dtype == np.int64
