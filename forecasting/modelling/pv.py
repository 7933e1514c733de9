"""PV generation from irradiance and temperature with pvlib (PVWatts): arrays in, average kW out.

GHI is split into direct and diffuse light (Erbs), transposed onto the array plane (Hay-Davies), the cell
temperature follows the air temperature and the irradiance (Faiman), and PVWatts turns that into DC then AC
power with 14 % system losses and a 96 % inverter. `capacity_kw` is the DC nameplate.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PvSystem:
    latitude: float
    longitude: float
    capacity_kw: float
    tilt: float = 30.0
    azimuth: float = 180.0  # degrees from north; 180 = south-facing
    altitude: float = 0.0
    gamma_pdc: float = -0.004  # per °C
    losses: float = 0.14
    inverter_efficiency: float = 0.96


def pv_power_kw(
    index: pd.DatetimeIndex,
    ghi_wm2: np.ndarray,
    temperature_c: np.ndarray,
    system: PvSystem,
    *,
    wind_speed_ms: np.ndarray | None = None,
) -> np.ndarray:
    """Average AC kW over each interval starting at `index` (UTC), from GHI and air temperature; irradiance
    is taken at the interval's midpoint."""
    import pvlib

    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)
    mid = index + step / 2
    ghi = np.clip(np.nan_to_num(np.asarray(ghi_wm2, dtype=float)), 0, None)
    temp = np.nan_to_num(np.asarray(temperature_c, dtype=float), nan=15.0)
    wind = (
        np.full(len(index), 1.0)
        if wind_speed_ms is None
        else np.nan_to_num(np.asarray(wind_speed_ms, float), nan=1.0)
    )
    solpos = pvlib.solarposition.get_solarposition(
        mid, system.latitude, system.longitude, altitude=system.altitude
    )
    zenith = solpos["apparent_zenith"].to_numpy()
    erbs = pvlib.irradiance.erbs(ghi, zenith, mid)
    dni_extra = pvlib.irradiance.get_extra_radiation(mid).to_numpy()
    poa = pvlib.irradiance.get_total_irradiance(
        system.tilt,
        system.azimuth,
        zenith,
        solpos["azimuth"].to_numpy(),
        dni=np.nan_to_num(np.asarray(erbs["dni"], float)),
        ghi=ghi,
        dhi=np.nan_to_num(np.asarray(erbs["dhi"], float)),
        dni_extra=dni_extra,
        model="haydavies",
    )
    poa_global = np.nan_to_num(np.asarray(poa["poa_global"], dtype=float))
    cell = pvlib.temperature.faiman(poa_global, temp, wind)
    dc_kw = pvlib.pvsystem.pvwatts_dc(poa_global, cell, system.capacity_kw, system.gamma_pdc) * (
        1 - system.losses
    )
    ac_kw = np.clip(dc_kw * system.inverter_efficiency, 0, system.capacity_kw * system.inverter_efficiency)
    ac_kw[zenith >= 90] = 0.0
    return np.asarray(ac_kw, dtype=float)


def pv_errors(measured_kw: np.ndarray, modelled_kw: np.ndarray, capacity_kw: float) -> dict[str, float]:
    """nMAE and nRMSE (% of capacity, daylight and night), bias (% of measured energy)."""
    ok = np.isfinite(measured_kw) & np.isfinite(modelled_kw)
    m, p = measured_kw[ok], modelled_kw[ok]
    return {
        "nmae_pct": float(np.mean(np.abs(p - m)) / capacity_kw * 100),
        "nrmse_pct": float(np.sqrt(np.mean((p - m) ** 2)) / capacity_kw * 100),
        "energy_bias_pct": float((p.sum() - m.sum()) / max(m.sum(), 1e-9) * 100),
        "points": int(ok.sum()),
    }
