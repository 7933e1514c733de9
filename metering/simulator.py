"""Synthetic household electricity consumption per interval, calibrated on real London smart-meter data.

Development, demos, forecasting experiments and load tests need many households' half-hourly readings
without anyone's real data. `simulate` builds them from a few physical and behavioural parts, each evaluated
for all premises and intervals at once with numpy:

- a standing base load (fridges, standby) that rises a little in winter, and loads on timers (immersion
  heaters, delayed-start appliances) that switch on at midnight and fade out over the small hours;
- occupant activity: morning, midday, evening and late-evening bumps in LOCAL time, later and flatter in the
  morning at weekends, stronger in winter, scaled with the number of residents, each household shifted in
  time and scaled by its own traits;
- lighting while the sun is down and people are awake, which moves the evening peak with sunset and DST;
- heating: the electric auxiliaries (pump, fan, plug-in heaters) of gas-heated homes, per heating degree
  below 15.5 C; heat pumps whose power
  follows heating degrees divided by a temperature-dependent COP, plus hot water; storage heaters charging in
  the off-peak window 00:30-07:30 local, with a little direct top-up in the day;
- rooftop PV from a clear-sky curve for latitude 51.5 N times a random clearness per day; generation covers
  the household's own use first and the rest is exported; a battery stores surplus before 16:00, then
  covers the evening's import and exports what the evening will not need into the 16:00-19:00 peak;
- multiplicative lognormal noise and occasional appliance spikes (kettle, oven, washing machine) that carry
  a fixed share of activity energy, so the noise leaves the expected profile unchanged.

The parameters were tuned with `bench/simulator_calibration.py` against 300 real households of the Low
Carbon London trial (2013): daily mean, the spread across households, the mean daily profile, the seasonal
swing and the weekend difference. Everything is deterministic for a given seed. The sun and the default
weather are London's whatever `timezone` says.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import pandas as pd

HEATING_KINDS = ("heat_pump", "gas", "electric_storage")
MAX_RESIDENTS = 6

LATITUDE_DEG = 51.5
LONGITUDE_DEG = -0.12
HEATING_BASE_C = 15.5  # UK heating degree-day base temperature
OFF_PEAK_LOCAL_HOURS = (0.5, 7.5)  # Economy 7 style window in which storage heaters charge

# Activity bumps as (centre hour local, width hours, amplitude kW for an average household), in the fixed
# order morning, midday, evening, late evening; weekday and weekend rows align so they can be mixed per
# interval. The weekend morning is later and flatter, the weekend midday busier.
_WEEKDAY_BUMPS = ((7.9, 0.7, 0.045), (13.0, 2.0, 0.022), (19.0, 1.4, 0.161), (21.8, 1.2, 0.077))
_WEEKEND_BUMPS = ((9.5, 1.2, 0.020), (13.0, 2.0, 0.124), (18.9, 1.4, 0.183), (21.8, 1.2, 0.052))
_AWAKE_KW = (0.147, 0.157)  # weekday, weekend: steady in-home activity while awake
_SHIFT_GROUP = (0, 0, 1, 1)  # which household timing shift moves each bump: 0 morning, 1 evening
_ACTIVITY_WINTER_SWING = 0.20  # activity is 20 % above its annual mean mid-January, 20 % below mid-July
_BASE_KW = 0.222
_BASE_WINTER_SWING = 0.11
_LIGHTING_KW = 0.107
_GAS_AUX_KW_PER_K = 0.0077
_WAKE_HOUR = (7.1, 8.2)  # weekday, weekend
_NIGHT_TIMER_KW = 0.046
_NIGHT_TIMER_KW_PER_K = 0.013
_NIGHT_TIMER_FULL_H = 1.0
_NIGHT_TIMER_DECAY_H = 1.5
_SLEEP_HOUR = 23.8
_AWAKE_SHARE = 0.69  # of the day, between the mean waking and sleeping hours; normalises day schedules

# Residents scale appliance use sub-linearly (a fourth person does not add a fourth fridge).
_RESIDENTS_REFERENCE = 2.4  # UK mean household size
_RESIDENTS_EXPONENT_ACTIVITY = 0.55
_RESIDENTS_EXPONENT_BASE = 0.25
_RESIDENTS_EXPONENT_HOT_WATER = 0.8

# Household heterogeneity (log-normal sigmas and timing shifts in hours).
_SCALE_SIGMA = 0.60  # overall size of the household's consumption
_COMPONENT_SIGMA = 0.25  # base, activity and lighting vary around it independently
_GAS_AUX_SIGMA = 0.9  # few homes run electric heaters a lot: a heavy tail
_HEAT_LOSS_SIGMA = 0.25
_NIGHT_TIMER_SIGMA = 1.0
_MORNING_SHIFT_SD_H = 0.6
_EVENING_SHIFT_SD_H = 0.8

# Heat pumps and storage heaters.
_HEAT_LOSS_KW_PER_K = 0.17  # median fabric + ventilation heat loss of a UK home
_HOT_WATER_HEAT_KWH_PER_DAY = 4.5  # at the reference household size
_HEAT_PUMP_HOT_WATER_HOUR = 5.5
_STORAGE_TOP_UP_SHARE = 0.15  # share of storage-heated homes' heat given directly in the day

# Photovoltaics and battery.
_CLEARNESS_BETA = (2.6, 1.4)  # daily clear-sky index, mean 0.65 (London ~1,000 kWh/m2/yr GHI)
_PV_SYSTEM_FACTOR = 0.85 * 1.12  # performance ratio times gain of a south-facing tilted panel
_PV_ORIENTATION_SD = 0.08
_BATTERY_CAPACITY_KWH = 5.0
_BATTERY_CHARGE_KW = 2.5
_BATTERY_ROUND_TRIP = 0.9
_BATTERY_EVENING_LOCAL_HOURS = (16.0, 19.0)  # discharge from 16:00; spare energy exported until 19:00

# Noise.
_NOISE_SIGMA = 0.35
_SPIKE_SHARE = 0.25  # share of activity energy that arrives as spikes
_SPIKE_MEAN_KWH = 0.45

_CHUNK_CELLS = 1_000_000  # premises x intervals evaluated at once; bounds memory to ~10 MB per array
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15  # splitmix64's increment, spreads the interval keys
_TRAIT_COUNT = 11


@dataclass(frozen=True)
class Premise:
    """What the simulator needs to know about a metered home.

    A battery charges from PV surplus only, so it has no effect on a premise without PV.
    """

    heating: str  # "heat_pump" | "gas" | "electric_storage"
    residents: int  # 1..6
    has_pv: bool
    has_battery: bool
    pv_kwp: float = 3.5

    def __post_init__(self) -> None:
        if self.heating not in HEATING_KINDS:
            raise ValueError(f"heating must be one of {HEATING_KINDS}, not {self.heating!r}")
        if not 1 <= self.residents <= MAX_RESIDENTS:
            raise ValueError(f"residents must be between 1 and {MAX_RESIDENTS}, not {self.residents}")
        if not self.pv_kwp >= 0:
            raise ValueError(f"pv_kwp must be >= 0, not {self.pv_kwp}")


def premise_from_attributes(heating: str, residents: int, has_pv: bool, has_battery: bool) -> Premise:
    """Build a `Premise` with the default PV size, e.g. from a model row's fields."""
    return Premise(heating=heating, residents=residents, has_pv=has_pv, has_battery=has_battery)


def round_kwh(values: np.ndarray) -> np.ndarray:
    """Round to 3 decimals: meters report whole watt-hours."""
    return np.round(np.asarray(values, dtype=float), 3)


def simulate(
    premises: Sequence[Premise],
    starts_utc: np.ndarray,
    *,
    timezone: str = "Europe/London",
    temperature_c: np.ndarray | None = None,
    seed: int = 0,
    interval_minutes: int = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (import_kwh, export_kwh), float arrays of shape (len(premises), len(starts_utc)), >= 0.

    `starts_utc` holds the UTC interval starts (naive datetime64 meaning UTC), strictly increasing.
    `temperature_c` is the outdoor temperature per interval, shape (len(starts_utc),) or
    (len(premises), len(starts_utc)); without it a typical London seasonal and daily curve is used.
    A reading depends only on the seed, the premise's position and attributes, the temperature and the
    local day it falls in: appending premises leaves the earlier ones unchanged, and simulating a month
    day by day gives the same readings as simulating it at once.
    """
    if interval_minutes <= 0:
        raise ValueError("interval_minutes must be positive")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    starts = np.asarray(starts_utc).astype("datetime64[s]")
    if starts.ndim != 1:
        raise ValueError("starts_utc must be one-dimensional")
    if starts.size > 1 and not np.all(np.diff(starts) > np.timedelta64(0, "s")):
        raise ValueError("starts_utc must be strictly increasing")

    n_premises, n_intervals = len(premises), starts.size
    import_kwh = np.zeros((n_premises, n_intervals))
    export_kwh = np.zeros((n_premises, n_intervals))
    if n_premises == 0 or n_intervals == 0:
        return import_kwh, export_kwh

    calendar = _Calendar.build(starts, timezone, interval_minutes)
    temperature = _temperature(temperature_c, calendar, n_premises)
    traits = _Traits.draw(premises, seed)
    pv_kw_per_kwp = _pv_kw_per_kwp(calendar, seed)

    rows = max(1, _CHUNK_CELLS // n_intervals)
    for first in range(0, n_premises, rows):
        part = slice(first, first + rows)
        chunk_traits = traits.take(part)
        chunk_temperature = temperature if temperature.shape[0] == 1 else temperature[part]
        draws = _random_draws(seed, np.arange(first, first + chunk_traits.base_kw.size), starts)
        load = _load_kwh(chunk_traits, calendar, chunk_temperature, draws)
        import_kwh[part], export_kwh[part] = _with_pv_and_battery(load, chunk_traits, calendar, pv_kw_per_kwp)
    return import_kwh, export_kwh


@dataclass(frozen=True)
class _Calendar:
    """Per-interval features shared by all premises (evaluated at each interval's midpoint)."""

    local_hour: np.ndarray  # 0..24, wall clock of `timezone`
    weekend: np.ndarray
    winter: np.ndarray  # cos of the season: 1 mid-January, -1 mid-July
    day_of_year: np.ndarray
    utc_hour: np.ndarray
    sin_elevation: np.ndarray  # sine of the sun's elevation at LATITUDE_DEG
    local_day: np.ndarray  # ordinal of the local date
    day_first: np.ndarray  # index of the first interval of the same local date
    day_last: np.ndarray  # index of the last interval of the same local date
    interval_hours: float

    @classmethod
    def build(cls, starts: np.ndarray, timezone: str, interval_minutes: int) -> "_Calendar":
        mids = starts + np.timedelta64(interval_minutes * 30, "s")
        local = pd.DatetimeIndex(mids).tz_localize("UTC").tz_convert(timezone)
        local_hour = local.hour.to_numpy() + local.minute.to_numpy() / 60 + local.second.to_numpy() / 3600
        local_day = local.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64)
        _, first_index, inverse = np.unique(local_day, return_index=True, return_inverse=True)

        utc_day = mids.astype("datetime64[D]")
        utc_hour = (mids - utc_day).astype(np.int64) / 3600
        day_of_year = (utc_day - utc_day.astype("datetime64[Y]")).astype(np.int64) + 1 + utc_hour / 24
        declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + day_of_year) / 365.25)
        hour_angle = np.radians(15 * (utc_hour + LONGITUDE_DEG / 15 - 12))
        latitude = np.radians(LATITUDE_DEG)
        sin_elevation = np.sin(latitude) * np.sin(declination) + np.cos(latitude) * np.cos(
            declination
        ) * np.cos(hour_angle)
        return cls(
            local_hour=local_hour,
            weekend=local.day_of_week.to_numpy() >= 5,
            winter=np.cos(2 * np.pi * (day_of_year - 15) / 365.25),
            day_of_year=day_of_year,
            utc_hour=utc_hour,
            sin_elevation=sin_elevation,
            local_day=local_day,
            day_first=first_index[inverse],
            day_last=np.append(first_index[1:] - 1, local_day.size - 1)[inverse],
            interval_hours=interval_minutes / 60,
        )


@dataclass(frozen=True)
class _Traits:
    """Per-premise attributes and random traits, one array element per premise."""

    heating: np.ndarray  # index into HEATING_KINDS
    has_pv: np.ndarray
    has_battery: np.ndarray
    pv_kwp: np.ndarray
    base_kw: np.ndarray
    activity_scale: np.ndarray
    lighting_kw: np.ndarray
    gas_aux_kw_per_k: np.ndarray
    heat_loss_kw_per_k: np.ndarray
    hot_water_heat_kwh: np.ndarray
    morning_shift_h: np.ndarray
    evening_shift_h: np.ndarray
    pv_orientation: np.ndarray
    night_timer_scale: np.ndarray

    @classmethod
    def draw(cls, premises: Sequence[Premise], seed: int) -> "_Traits":
        # One row of normals per premise, so premise i's traits depend on the seed and i only.
        z = np.random.default_rng([seed, 0]).standard_normal((len(premises), _TRAIT_COUNT))
        residents = np.array([p.residents for p in premises], dtype=float) / _RESIDENTS_REFERENCE
        scale = np.exp(_SCALE_SIGMA * z[:, 0] - _SCALE_SIGMA**2 / 2)

        def lognormal(column: int, sigma: float) -> np.ndarray:
            return np.exp(sigma * z[:, column] - sigma**2 / 2)

        return cls(
            heating=np.array([HEATING_KINDS.index(p.heating) for p in premises]),
            has_pv=np.array([p.has_pv for p in premises], dtype=bool),
            has_battery=np.array([p.has_battery and p.has_pv for p in premises], dtype=bool),
            pv_kwp=np.array([p.pv_kwp for p in premises], dtype=float),
            base_kw=_BASE_KW * scale * residents**_RESIDENTS_EXPONENT_BASE * lognormal(1, _COMPONENT_SIGMA),
            activity_scale=scale * residents**_RESIDENTS_EXPONENT_ACTIVITY * lognormal(2, _COMPONENT_SIGMA),
            lighting_kw=_LIGHTING_KW
            * scale
            * residents**_RESIDENTS_EXPONENT_BASE
            * lognormal(3, _COMPONENT_SIGMA),
            gas_aux_kw_per_k=_GAS_AUX_KW_PER_K * scale * lognormal(4, _GAS_AUX_SIGMA),
            heat_loss_kw_per_k=_HEAT_LOSS_KW_PER_K * lognormal(5, _HEAT_LOSS_SIGMA),
            hot_water_heat_kwh=_HOT_WATER_HEAT_KWH_PER_DAY
            * residents**_RESIDENTS_EXPONENT_HOT_WATER
            * lognormal(6, _COMPONENT_SIGMA),
            morning_shift_h=_MORNING_SHIFT_SD_H * z[:, 7],
            evening_shift_h=_EVENING_SHIFT_SD_H * z[:, 8],
            pv_orientation=np.clip(1 + _PV_ORIENTATION_SD * z[:, 9], 0.6, 1.2),
            night_timer_scale=scale * lognormal(10, _NIGHT_TIMER_SIGMA),
        )

    def take(self, part: slice) -> "_Traits":
        return type(self)(**{f.name: getattr(self, f.name)[part] for f in fields(self)})


def _temperature(temperature_c: np.ndarray | None, calendar: _Calendar, n_premises: int) -> np.ndarray:
    """Return the outdoor temperature as a (1, T) or (P, T) array."""
    n_intervals = calendar.local_hour.size
    if temperature_c is None:
        # London (Heathrow 1981-2010): annual mean 11.3 C, coldest mid-January, warmest late July; daily
        # swing wider in summer, warmest mid-afternoon.
        seasonal = 11.3 - 6.8 * np.cos(2 * np.pi * (calendar.day_of_year - 20) / 365.25)
        swing = 2.5 - 1.0 * calendar.winter
        return (seasonal + swing * np.cos(2 * np.pi * (calendar.utc_hour - 14.5) / 24))[None, :]
    temperature = np.asarray(temperature_c, dtype=float)
    if temperature.shape == (n_intervals,):
        temperature = temperature[None, :]
    if temperature.shape not in {(1, n_intervals), (n_premises, n_intervals)}:
        raise ValueError(f"temperature_c must have shape ({n_intervals},) or ({n_premises}, {n_intervals})")
    if not np.all(np.isfinite(temperature)):
        raise ValueError("temperature_c must be finite")
    return temperature


def _random_draws(seed: int, premise_index: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Standard normal, uniform and standard exponential draws, shape (3, premises, intervals).

    Each draw is a hash of (seed, premise index, interval start) rather than the next number of a stream,
    so a premise's reading for an interval is the same whichever other premises and whichever window are
    simulated with it, and consecutive days do not repeat each other's noise.
    """
    seed_key = _mix64(np.array([seed], dtype=np.uint64))
    premise_key = _mix64(premise_index.astype(np.uint64) ^ seed_key)[:, None]
    time_key = _mix64(starts.astype(np.int64).astype(np.uint64) + np.uint64(_GOLDEN_GAMMA))[None, :]
    uniforms = []
    for stream in (1, 2):
        bits = _mix64(premise_key ^ _mix64(time_key ^ np.uint64(stream)))
        uniforms += [
            ((bits >> np.uint64(32)) + 0.5) / 2.0**32,
            ((bits & np.uint64(0xFFFFFFFF)) + 0.5) / 2.0**32,
        ]
    normal = np.sqrt(-2 * np.log(uniforms[0])) * np.cos(2 * np.pi * uniforms[1])  # Box-Muller
    return np.stack([normal, uniforms[2], -np.log(uniforms[3])])


def _mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: a bijective 64-bit hash whose output bits look independent and uniform."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _load_kwh(
    traits: _Traits, calendar: _Calendar, temperature: np.ndarray, draws: np.ndarray
) -> npt.NDArray[np.float64]:
    """Household consumption before PV, kWh per interval, shape (premises, intervals)."""
    hour = calendar.local_hour[None, :]
    weekend = calendar.weekend[None, :]
    shifts = (traits.morning_shift_h[:, None], traits.evening_shift_h[:, None])

    # Awake between waking and going to bed, on an axis running from 04:00 to 04:00 the next day.
    day_hour = np.where(hour < 4, hour + 24, hour)
    wake = np.where(weekend, _WAKE_HOUR[1], _WAKE_HOUR[0]) + shifts[0]
    awake = _sigmoid((day_hour - wake) / 0.4) * _sigmoid((_SLEEP_HOUR + shifts[1] - day_hour) / 0.4)

    activity_kw = np.where(weekend, _AWAKE_KW[1], _AWAKE_KW[0]) * awake
    for (wd_centre, wd_width, wd_amp), (we_centre, we_width, we_amp), group in zip(
        _WEEKDAY_BUMPS, _WEEKEND_BUMPS, _SHIFT_GROUP, strict=True
    ):
        centre = np.where(weekend, we_centre, wd_centre) + shifts[group]
        width = np.where(weekend, we_width, wd_width)
        offset = (hour - centre + 12) % 24 - 12
        activity_kw += np.where(weekend, we_amp, wd_amp) * np.exp(-0.5 * (offset / width) ** 2)
    season = 1 + _ACTIVITY_WINTER_SWING * calendar.winter[None, :]
    activity_kw *= season * traits.activity_scale[:, None]

    # Lights go on as the sun sinks below 3 degrees and are all on by civil dusk (sun 6 degrees below).
    elevation_deg = np.degrees(np.arcsin(np.clip(calendar.sin_elevation, -1, 1)))
    dark = np.clip((3 - elevation_deg) / 9, 0, 1)[None, :]
    lighting_kw = traits.lighting_kw[:, None] * dark * awake

    degrees = np.maximum(HEATING_BASE_C - temperature, 0)
    base_kw = traits.base_kw[:, None] * (1 + _BASE_WINTER_SWING * calendar.winter[None, :])
    # Timed loads switch on at midnight, run for about an hour, then fade out as they finish.
    after_midnight = np.where(
        hour < 7, np.minimum(np.exp(-(hour - _NIGHT_TIMER_FULL_H) / _NIGHT_TIMER_DECAY_H), 1), 0
    )
    timer_kw = traits.night_timer_scale[:, None] * after_midnight
    heating_kw = _heating_kw(traits, calendar, temperature, degrees, awake, timer_kw)

    smooth_kw = (
        base_kw + lighting_kw + _NIGHT_TIMER_KW * timer_kw + heating_kw + (1 - _SPIKE_SHARE) * activity_kw
    )
    smooth_kwh = smooth_kw * calendar.interval_hours
    normal, uniform, exponential = draws
    noise = np.exp(_NOISE_SIGMA * normal - _NOISE_SIGMA**2 / 2)

    # Spikes: Bernoulli events whose expected energy is _SPIKE_SHARE of the activity energy.
    spike_probability = np.minimum(
        _SPIKE_SHARE * activity_kw * calendar.interval_hours / _SPIKE_MEAN_KWH, 1.0
    )
    spikes = (uniform < spike_probability) * _SPIKE_MEAN_KWH * exponential
    load_kwh: npt.NDArray[np.float64] = smooth_kwh * noise + spikes
    return load_kwh


def _heating_kw(
    traits: _Traits,
    calendar: _Calendar,
    temperature: np.ndarray,
    degrees: np.ndarray,
    awake: np.ndarray,
    timer_kw: np.ndarray,
) -> np.ndarray:
    """Electric power for space and water heating by heating kind, kW, shape (premises, intervals)."""
    heating = traits.heating[:, None]
    heat_loss = traits.heat_loss_kw_per_k[:, None]
    hot_water_heat_kwh = traits.hot_water_heat_kwh[:, None]
    hour = calendar.local_hour[None, :]

    # Gas homes: boiler pump and fan, plug-in heaters by day, a few timed night heaters.
    gas_kw = degrees * (
        traits.gas_aux_kw_per_k[:, None] * (0.4 + 0.6 * awake) + _NIGHT_TIMER_KW_PER_K * timer_kw
    )

    # Heat pumps run all day with a night set-back, and heat the day's hot water before dawn; the COP (3.0 at
    # 7 C) falls as the outdoor temperature falls.
    cop = np.clip(3.0 + 0.07 * (temperature - 7), 2.0, 4.2)
    schedule = (0.6 + 0.55 * awake) / (0.6 + 0.55 * _AWAKE_SHARE)
    hot_water_shape = np.exp(-0.5 * ((hour - _HEAT_PUMP_HOT_WATER_HOUR) / 0.75) ** 2) / (
        0.75 * np.sqrt(2 * np.pi)
    )
    heat_pump_kw = (heat_loss * degrees * schedule + hot_water_heat_kwh * hot_water_shape) / cop

    # Storage heaters charge the local day's heat (its mean heating degrees, as a charge controller with an
    # outdoor sensor would) in the off-peak window; the immersion heater heats the day's water there too.
    start, end = OFF_PEAK_LOCAL_HOURS
    off_peak = ((hour >= start) & (hour < end)) / (end - start)
    day_degrees = _day_total(degrees, calendar) / _day_total(np.ones_like(hour), calendar)
    storage_kw = (
        heat_loss * day_degrees * 24 * (1 - _STORAGE_TOP_UP_SHARE) * off_peak
        + heat_loss * degrees * _STORAGE_TOP_UP_SHARE * awake / _AWAKE_SHARE
        + hot_water_heat_kwh * off_peak
    )
    kinds = HEATING_KINDS
    return np.select(
        [heating == kinds.index("gas"), heating == kinds.index("heat_pump")],
        [gas_kw, heat_pump_kw],
        storage_kw,
    )


def _pv_kw_per_kwp(calendar: _Calendar, seed: int) -> npt.NDArray[np.float64]:
    """PV output per kWp for each interval: clear-sky irradiance times the day's random clearness."""
    sin_elevation = np.clip(calendar.sin_elevation, 0, None)
    air_mass = 1 / np.maximum(sin_elevation, 0.02)
    # Meinel clear-sky model: global horizontal irradiance in W/m2.
    clear_sky = np.where(sin_elevation > 0, 1.1 * 1353 * 0.7 ** (air_mass**0.678) * sin_elevation, 0)
    days, day_index = np.unique(calendar.local_day, return_inverse=True)
    # Each date's clearness depends on the seed and the date only, not on the simulated window.
    clearness = np.array([np.random.default_rng([seed, 2, int(day)]).beta(*_CLEARNESS_BETA) for day in days])
    kw_per_kwp: npt.NDArray[np.float64] = clear_sky / 1000 * _PV_SYSTEM_FACTOR * clearness[day_index]
    return kw_per_kwp


def _with_pv_and_battery(
    load_kwh: np.ndarray, traits: _Traits, calendar: _Calendar, pv_kw_per_kwp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Net the load against PV and the battery; return (import_kwh, export_kwh)."""
    generation = (
        (traits.has_pv * traits.pv_kwp * traits.pv_orientation)[:, None]
        * pv_kw_per_kwp[None, :]
        * calendar.interval_hours
    )
    import_kwh = np.maximum(load_kwh - generation, 0)
    export_kwh = np.maximum(generation - load_kwh, 0)
    if not traits.has_battery.any():
        return import_kwh, export_kwh

    # The battery starts each local day empty and charges from surplus before the evening. From then on it
    # covers the home's own import until midnight; what the evening will not need is exported evenly
    # across the peak window, where a dynamic tariff pays most for it.
    evening_start, peak_end = _BATTERY_EVENING_LOCAL_HOURS
    before = calendar.local_hour < evening_start
    peak = (calendar.local_hour >= evening_start) & (calendar.local_hour < peak_end)
    step_kwh = _BATTERY_CHARGE_KW * calendar.interval_hours
    charge_offer = np.where(
        before[None, :] & traits.has_battery[:, None], np.minimum(export_kwh, step_kwh), 0
    )
    charged_total = np.minimum(_day_cumsum(charge_offer, calendar), _BATTERY_CAPACITY_KWH)
    charge = _day_diff(charged_total, calendar)
    stored = _BATTERY_ROUND_TRIP * _day_total(charged_total, calendar, cumulative=True)

    evening_import = np.where(before[None, :], 0, import_kwh)
    own_use = _day_diff(np.minimum(_day_cumsum(evening_import, calendar), stored), calendar)
    spare = np.maximum(stored - _day_total(evening_import, calendar), 0)
    peak_intervals = _day_total(peak[None, :].astype(float), calendar)
    peak_export = np.where(peak[None, :], spare / np.maximum(peak_intervals, 1), 0)
    return (
        np.maximum(import_kwh - own_use, 0),
        np.maximum(export_kwh - charge + peak_export, 0),
    )


def _day_cumsum(values: np.ndarray, calendar: _Calendar) -> np.ndarray:
    """Cumulative sum along time that restarts at each local day."""
    total = np.cumsum(values, axis=1)
    before_day = np.where(calendar.day_first > 0, calendar.day_first - 1, 0)
    offset = np.where(calendar.day_first > 0, total[:, before_day], 0)
    return total - offset


def _day_total(values: np.ndarray, calendar: _Calendar, *, cumulative: bool = False) -> np.ndarray:
    """Each interval's local-day total of `values` (already a `_day_cumsum` when `cumulative`)."""
    running = values if cumulative else _day_cumsum(values, calendar)
    return running[:, calendar.day_last]


def _day_diff(cumulative: np.ndarray, calendar: _Calendar) -> np.ndarray:
    """Inverse of `_day_cumsum`."""
    step = np.diff(cumulative, axis=1, prepend=0)
    first = calendar.day_first == np.arange(calendar.day_first.size)
    step[:, first] = cumulative[:, first]
    return step


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1 / (1 + np.exp(-x))
