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
