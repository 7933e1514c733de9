"""PV from irradiance (checked against a real PVDAQ system), price forecasts against same hour last week, and
anomaly detection measured on injected anomalies."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.modelling.anomalies import detect, inject, precision_recall
from forecasting.modelling.backtest import local_midnights
from forecasting.modelling.calendar import Calendar
from forecasting.modelling.prices import price_backtest
from forecasting.modelling.pv import PvSystem, pv_errors, pv_power_kw
from tests.unit.forecasting.synthetic import demand_series

DATA = Path(__file__).parents[3] / "data"
# NREL PVDAQ system 50 (Golden, Colorado, assumed; 30° tilt, south); nameplate fitted on 2011
# (bench/forecasting_pv.py).
SYSTEM_50 = PvSystem(latitude=39.74, longitude=-105.18, capacity_kw=3.24, tilt=30, altitude=1800)


def test_pv_model_matches_the_measured_pvdaq_system_within_ten_percent_of_capacity():
    power = pd.read_csv(DATA / "solar" / "pvdaq_system50_ac_power_15min_2012-06-01_14.csv")
    power.index = pd.to_datetime(power["timestamp_as_labelled"], utc=True)
    measured_kw = (power["ac_power"] / 1000).resample("30min").mean()
    weather = pd.read_csv(DATA / "solar" / "pvdaq_system50_site_psm3_irradiance_30min_2012-06-01_14.csv")
    weather.index = pd.to_datetime(weather["timestamp"], utc=True)

    modelled = pd.Series(
        pv_power_kw(weather.index, weather["ghi"].to_numpy(), weather["temp_air"].to_numpy(), SYSTEM_50),
        index=weather.index,
    )
    both = pd.DataFrame({"measured": measured_kw, "modelled": modelled}).dropna()
    errors = pv_errors(both["measured"].to_numpy(), both["modelled"].to_numpy(), SYSTEM_50.capacity_kw)

    assert errors["points"] > 600
    assert errors["nmae_pct"] < 10
    assert abs(errors["energy_bias_pct"]) < 15
    assert modelled[modelled.index.hour == 8].max() == 0  # 01:00 local: night


def test_price_model_beats_the_same_hour_last_week_on_ercot():
    prices = pd.read_csv(DATA / "prices" / "us_day_ahead_hourly_2023-03-01_2023-04-30_wide.csv")
    prices.index = pd.to_datetime(prices["timestamp_utc"], utc=True)
    y = prices["ERCOT_HB_HUBAVG_USD_MWh"].astype(float)
    weather = pd.read_csv(DATA / "weather" / "open_meteo_ercot_hourly_2023-03-01_2023-04-30.csv")
    weather.index = pd.to_datetime(weather["timestamp_utc"], utc=True)
    X = (
        weather[["temperature_2m_c", "windspeed_10m_kmh"]]
        .reindex(y.index)
        .interpolate(limit_direction="both")
    )
    calendar = Calendar(zone="America/Chicago", holidays="US", step=pd.Timedelta(hours=1))
    origins = local_midnights(pd.Timestamp("2023-04-10"), pd.Timestamp("2023-04-29"), calendar)

    result = price_backtest(y, X, calendar=calendar, origins=origins, refit_every_days=7)

    model, naive = result.models[0].metrics, result.seasonal_naive.metrics
    assert result.origins == 19
    assert model["mase"] < 1.0  # lower mean absolute error than the same hour last week
    assert model["rmse"] < naive["rmse"]


def test_isolation_forest_finds_injected_anomalies_with_reasons():
    y, _ = demand_series(days=60)
    calendar = Calendar(zone="UTC", step=pd.Timedelta(hours=1))
    corrupted, injected = inject(y, count=12)

    findings = detect(corrupted, calendar, contamination=0.01)
    scores = precision_recall(findings, injected)

    assert scores["precision"] >= 0.8
    assert scores["recall"] >= 0.8
    assert all(f.reason for f in findings)
    assert any("stuck" in f.reason for f in findings)
    assert any("last week" in f.reason or "median" in f.reason or "level" in f.reason for f in findings)


@pytest.mark.parametrize("contamination", [0.005, 0.02])
def test_a_clean_series_gives_few_findings(contamination):
    y, _ = demand_series(days=30, noise=0.01)

    findings = detect(y, Calendar(zone="UTC"), contamination=contamination)

    assert len(findings) <= int(np.ceil(len(y) * contamination)) + 1
