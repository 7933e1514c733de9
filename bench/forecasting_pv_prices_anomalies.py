"""PV model error against PVDAQ system 50, day-ahead price forecasts of the 11 markets against the same hour
last week, and anomaly detection precision/recall on injected anomalies (prices and a load aggregate).

Uses the internal copies in ../shared/data (EU price columns may not be committed; reading them here is fine).

    .venv/bin/python bench/forecasting_pv_prices_anomalies.py [pv|prices|anomalies ...]
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting.modelling.anomalies import detect, inject, precision_recall
from forecasting.modelling.backtest import local_midnights
from forecasting.modelling.calendar import Calendar
from forecasting.modelling.prices import price_backtest
from forecasting.modelling.pv import PvSystem, pv_errors, pv_power_kw

DATA = Path("/work/shared/data")
MARKETS = {  # column: (zone, holidays, weather region or None)
    "DE_LU_EUR_MWh": ("Europe/Berlin", "DE", "DE-LU"),
    "FR_EUR_MWh": ("Europe/Paris", "FR", None),
    "NL_EUR_MWh": ("Europe/Amsterdam", "NL", None),
    "BE_EUR_MWh": ("Europe/Brussels", "BE", None),
    "AT_EUR_MWh": ("Europe/Vienna", "AT", None),
    "CH_EUR_MWh": ("Europe/Zurich", "CH", None),
    "ES_EUR_MWh": ("Europe/Madrid", "ES", None),
    "PT_EUR_MWh": ("Europe/Lisbon", "PT", None),
    "ERCOT_HB_HUBAVG_USD_MWh": ("America/Chicago", "US", "US-TEX-ERCO"),
    "CAISO_TH_NP15_USD_MWh": ("America/Los_Angeles", "US", "US-CAL-CISO"),
    "NYISO_CAPITL_USD_MWh": ("America/New_York", "US", "US-NY-NYIS"),
}


def pv() -> None:
    power = pd.read_csv(DATA / "solar" / "pvdaq_system50_ac_power_15min_2011_2013.csv")
    power.index = pd.to_datetime(power["timestamp_as_labelled"], utc=True)
    measured = (power["ac_power"] / 1000).resample("30min").mean()
    weather = pd.read_csv(DATA / "solar" / "pvdaq_system50_site_psm3_irradiance_30min_2011_2013.csv")
    weather.index = pd.to_datetime(weather["timestamp"], utc=True)
    unit = PvSystem(latitude=39.74, longitude=-105.18, capacity_kw=1.0, tilt=30, altitude=1800)
    modelled = pd.Series(pv_power_kw(weather.index, weather["ghi"], weather["temp_air"], unit), weather.index)
    both = pd.DataFrame({"m": measured, "p": modelled}).dropna()
    fit = both[both.index < "2012-01-01"]
    capacity = float((fit.m * fit.p).sum() / (fit.p**2).sum())
    test = both[both.index >= "2012-01-01"]
    errors = pv_errors(test.m.to_numpy(), test.p.to_numpy() * capacity, capacity)
    daily = test.resample("D").sum()
    daily = daily[daily.m > 0]
    daily_mape = float(np.mean(np.abs(daily.p * capacity - daily.m) / daily.m) * 100)
    print("PV (pvlib PVWatts from satellite GHI + air temperature) vs PVDAQ system 50, 2012-2013, 30-min:")
    print(
        f"  nameplate fitted on 2011: {capacity:.2f} kW; nMAE {errors['nmae_pct']:.1f} % of capacity, "
        f"nRMSE {errors['nrmse_pct']:.1f} %, energy bias {errors['energy_bias_pct']:+.1f} %, "
        f"daily-energy MAPE {daily_mape:.1f} % ({errors['points']:,} points)"
    )


def prices() -> None:
    wide = pd.read_csv(DATA / "prices" / "day_ahead_prices_hourly_2020_2024_wide.csv")
    wide.index = pd.to_datetime(wide["timestamp_utc"], utc=True)
    weather = pd.read_csv(DATA / "prices" / "weather_open_meteo_hourly_2020_2024_long.csv")
    weather.index = pd.to_datetime(weather["timestamp_utc"], utc=True)
    print("Day-ahead prices, origins 2024-01-01..2024-07-01 (182 days, 24 h ahead, refit every 28 days):")
    print(
        f"  {'market':<26}{'MAE':>8}{'naive MAE':>11}{'MASE':>7}{'RMSE':>9}{'naive RMSE':>12}{'cov80':>7}{'cov95':>7}"
    )
    for column, (zone, holidays, region) in MARKETS.items():
        y = wide[column].astype(float)
        y = y[(y.index >= "2022-07-01") & (y.index < "2024-07-02")]
        y = y.reindex(pd.date_range(y.index[0], y.index[-1], freq="h"))
        X = None
        if region:
            w = weather[weather["region"] == region][
                ["temperature_2m_c", "windspeed_10m_kmh", "cloudcover_pct"]
            ]
            X = w.reindex(w.index.union(y.index)).interpolate(limit_direction="both").reindex(y.index)
        calendar = Calendar(zone=zone, holidays=holidays, step=pd.Timedelta(hours=1))
        origins = local_midnights(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-07-01"), calendar)
        started = time.perf_counter()
        result = price_backtest(y, X, calendar=calendar, origins=origins, refit_every_days=28)
        m, n = result.models[0], result.seasonal_naive
        mae = float(np.nanmean(np.abs(m.forecasts["actual"] - m.forecasts["value"])))
        naive_mae = float(np.nanmean(np.abs(n.forecasts["actual"] - n.forecasts["value"])))
        print(
            f"  {column:<26}{mae:>8.2f}{naive_mae:>11.2f}{m.metrics['mase']:>7.2f}{m.metrics['rmse']:>9.2f}"
            f"{n.metrics['rmse']:>12.2f}{m.metrics['coverage_80']:>7.2f}{m.metrics['coverage_95']:>7.2f}"
            f"  ({time.perf_counter() - started:.0f} s{', weather' if X is not None else ''})",
            flush=True,
        )


def anomalies() -> None:
    wide = pd.read_csv(DATA / "prices" / "day_ahead_prices_hourly_2020_2024_wide.csv")
    wide.index = pd.to_datetime(wide["timestamp_utc"], utc=True)
    vic = pd.read_csv(DATA / "demand_weather" / "vic_elec_2012_2014_halfhourly.csv")
    vic.index = pd.to_datetime(vic["timestamp_utc"], utc=True)
    cases = [
        ("ERCOT prices 2023", wide["ERCOT_HB_HUBAVG_USD_MWh"], "America/Chicago", "h", "2023"),
        ("DE-LU prices 2023", wide["DE_LU_EUR_MWh"], "Europe/Berlin", "h", "2023"),
        ("vic_elec demand 2013 (aggregate)", vic["demand_mw"], "Australia/Melbourne", "30min", "2013"),
    ]
    print("Anomaly detection (Isolation Forest, contamination 1 %), 100 injected anomalies per series:")
    for label, series, zone, freq, year in cases:
        y = series[series.index.year == int(year)].astype(float)
        y = y.reindex(pd.date_range(y.index[0], y.index[-1], freq=freq))
        calendar = Calendar(zone=zone, step=pd.Timedelta(freq if freq != "h" else "1h"))
        clean = detect(y, calendar, contamination=0.01)
        corrupted, injected = inject(y, count=100)
        scores = precision_recall(detect(corrupted, calendar, contamination=0.01), injected)
        print(
            f"  {label:<34} precision {scores['precision']:.2f}  recall {scores['recall']:.2f}  "
            f"({scores['found']} flagged, {scores['injected']} injected intervals; "
            f"{len(clean)} flagged before injection: real spikes count against precision)"
        )


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["pv", "prices", "anomalies"]
    for name in wanted:
        globals()[name]()
