"""Tariff comparison maths (docs/tariff-analytics.md): fairness statistics, prosumer metrics, scenarios.

Pure Python with numpy, no Django. Bills themselves always come from `billing.engine.bill_compute` (the
same engine as invoices); this module only summarises them and transforms the engine's inputs for
sensitivity scenarios (price level, PV penetration, consumer response).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

import numpy as np

from pricing import engine as rates
from pricing.documents import (
    DynamicEnergy,
    FlatEnergy,
    IndexedEnergy,
    PeakAdder,
    TariffDocument,
    Tier,
    TieredEnergy,
    TouEnergy,
)

CENT = Decimal("0.01")
GENERATION = "GEN"  # a PV generation meter's direction (metering); never billed
MICRO = Decimal("0.000001")


def gini(values: Sequence[float]) -> float | None:
    """Gini coefficient: Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² |mean|); None for no values or a zero mean.

    For non-negative values (bills) this is the usual coefficient in [0, 1 − 1/n]; for savings, which can
    be negative, it is the relative mean absolute difference halved and may exceed 1.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or x.mean() == 0:
        return None
    # Σᵢ Σⱼ |xᵢ − xⱼ| = 2 Σᵢ (2i − n + 1) x₍ᵢ₎ for sorted x (0-based i)
    total = 2 * float(np.dot(2 * np.arange(n) - n + 1, x))
    return total / (2 * n * n * abs(float(x.mean())))


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Population standard deviation ÷ |mean|; None for no values or a zero mean."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0 or x.mean() == 0:
        return None
    return float(x.std() / abs(x.mean()))


@dataclass(frozen=True)
class TariffSummary:
    """One tariff over the cohort: totals, mean and median bill, winners and losers against the current
    tariff (savings = current − candidate), fairness of bills and savings, prosumer metrics."""

    tariff_code: str
    accounts: int
    held: int
    total: Decimal
    mean: Decimal | None
    median: Decimal | None
    winners: int
    losers: int
    unchanged: int
    mean_saving: Decimal | None
    bills_cv: float | None
    bills_gini: float | None
    savings_cv: float | None
    savings_gini: float | None
    self_sufficiency: float | None = None
    self_consumption: float | None = None


def summarise(
    tariff_code: str,
    totals: dict[int, Decimal | None],
    current: dict[int, Decimal | None],
    *,
    self_sufficiency: float | None = None,
    self_consumption: float | None = None,
) -> TariffSummary:
    """Summarise one tariff's bills (`None`: held) against the current bills of the same accounts."""
    billed = {k: v for k, v in totals.items() if v is not None}
    amounts = list(billed.values())
    savings = [c - v for k, v in billed.items() if (c := current.get(k)) is not None]
    return TariffSummary(
        tariff_code=tariff_code,
        accounts=len(billed),
        held=len(totals) - len(billed),
        total=sum(amounts, Decimal("0.00")),
        mean=_money(sum(amounts, Decimal(0)) / len(amounts)) if amounts else None,
        median=_money(Decimal(median(amounts))) if amounts else None,
        winners=sum(1 for s in savings if s > 0),
        losers=sum(1 for s in savings if s < 0),
        unchanged=sum(1 for s in savings if s == 0),
        mean_saving=_money(sum(savings, Decimal(0)) / len(savings)) if savings else None,
        bills_cv=coefficient_of_variation([float(a) for a in amounts]),
        bills_gini=gini([float(a) for a in amounts]),
        savings_cv=coefficient_of_variation([float(s) for s in savings]),
        savings_gini=gini([float(s) for s in savings]),
        self_sufficiency=self_sufficiency,
        self_consumption=self_consumption,
    )


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def prosumer_metrics(
    consumption_kwh: np.ndarray, generation_kwh: np.ndarray
) -> tuple[float | None, float | None]:
    """(self-sufficiency, self-consumption) over intervals: self-consumed = Σ min(consumption, generation);
    self-sufficiency = self-consumed / Σ consumption, self-consumption = self-consumed / Σ generation."""
    used = float(np.minimum(consumption_kwh, generation_kwh).sum())
    demand, generated = float(consumption_kwh.sum()), float(generation_kwh.sum())
    return (used / demand if demand else None, used / generated if generated else None)


@dataclass(frozen=True)
class ProsumerEnergy:
    """A prosumer's measured energy over a period (0.0001 kWh): what it consumed (grid import + its own PV
    used at home), what its panels generated, and the part of that used at home."""

    consumed_kwh_e4: int
    generated_kwh_e4: int
    self_consumed_kwh_e4: int

    @property
    def self_sufficiency(self) -> float | None:
        """Share of consumption met by the own PV."""
        return self.self_consumed_kwh_e4 / self.consumed_kwh_e4 if self.consumed_kwh_e4 else None

    @property
    def self_consumption(self) -> float | None:
        """Share of generation used at home (not exported)."""
        return self.self_consumed_kwh_e4 / self.generated_kwh_e4 if self.generated_kwh_e4 else None


Series = tuple[np.ndarray, np.ndarray]  # (interval starts, kWh × 10⁴)


def prosumer_energy(
    imports: Sequence[Series], exports: Sequence[Series], generation: Sequence[Series]
) -> ProsumerEnergy:
    """Energy of a prosumer from its meters' readings: per interval (readings aligned by start), self-consumed
    = max(generation − export, 0) and consumption = import + self-consumed. Intervals without a generation
    reading count no self-consumption (the measured export is then all the PV known)."""
    starts = np.unique(np.concatenate([s for s, _ in (*imports, *exports, *generation)] or [np.zeros(0)]))

    def on_grid(series: Sequence[Series]) -> np.ndarray:
        values = np.zeros(len(starts), dtype=np.int64)
        for at, kwh_e4 in series:
            np.add.at(values, np.searchsorted(starts, at), kwh_e4.astype(np.int64))
        return values

    imported, exported, generated = on_grid(imports), on_grid(exports), on_grid(generation)
    self_consumed = np.maximum(generated - exported, 0)
    return ProsumerEnergy(
        consumed_kwh_e4=int((imported + self_consumed).sum()),
        generated_kwh_e4=int(generated.sum()),
        self_consumed_kwh_e4=int(self_consumed.sum()),
    )


# --- scenarios --------------------------------------------------------------------------------------


def _scaled(value: Decimal, factor: Decimal) -> Decimal:
    return (value * factor).quantize(MICRO, ROUND_HALF_UP)


def _scaled_optional(value: Decimal | None, factor: Decimal) -> Decimal | None:
    return None if value is None else _scaled(value, factor)


def scale_document(document: TariffDocument, factor: Decimal) -> TariffDocument:
    """The document with every energy rate and the standing charge × `factor` (6 places, half-up): the
    'price level' scenario. Indexed tariffs scale their multiplier, adders, cap and floor; dynamic ones are
    scaled through their published series (`scale_series`)."""
    energy = document.energy
    if isinstance(energy, FlatEnergy):
        energy = replace(energy, rate_per_kwh=_scaled(energy.rate_per_kwh, factor))
    elif isinstance(energy, TieredEnergy):
        energy = replace(
            energy,
            tiers=tuple(Tier(t.up_to_kwh, _scaled(t.rate_per_kwh, factor)) for t in energy.tiers),
        )
    elif isinstance(energy, TouEnergy):
        energy = replace(
            energy, rates_per_kwh={k: _scaled(v, factor) for k, v in energy.rates_per_kwh.items()}
        )
    elif isinstance(energy, IndexedEnergy):
        peak = energy.peak_adder
        energy = replace(
            energy,
            multiplier=_scaled(energy.multiplier, factor),
            adder_per_kwh=_scaled(energy.adder_per_kwh, factor),
            peak_adder=None
            if peak is None
            else PeakAdder(peak.start, peak.end, _scaled(peak.per_kwh, factor)),
            cap_per_kwh=_scaled_optional(energy.cap_per_kwh, factor),
            floor_per_kwh=_scaled_optional(energy.floor_per_kwh, factor),
        )
    elif isinstance(energy, DynamicEnergy):
        pass
    return replace(
        document,
        energy=energy,
        standing_charge_per_day=_scaled_optional(document.standing_charge_per_day, factor),
    )


def scale_series(series: rates.PriceSeries | None, factor: Decimal) -> rates.PriceSeries | None:
    if series is None:
        return None
    micros = int((factor * 1_000_000).to_integral_value(ROUND_HALF_UP))
    values = (series.values_micros.astype(object) * micros + 500_000) // 1_000_000
    return rates.PriceSeries(series.starts, series.ends, values.astype(np.int64))


# Consumer response: given an account's interval starts, energy (kWh × 10⁴) and the candidate tariff's
# unit rates (micro-units per kWh), return the energy the account would use under that tariff. The
# balancing model (grid) plugs in here; the default leaves consumption unchanged.
ConsumerResponse = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def no_response(starts: np.ndarray, kwh_e4: np.ndarray, rate_micros: np.ndarray) -> np.ndarray:
    return kwh_e4


def elasticity_response(elasticity: float) -> ConsumerResponse:
    """A simple daily load-shifting response: within each UTC day, energy moves towards cheaper intervals
    with constant own-price elasticity (kwh × (rate / day's mean rate) ^ elasticity), renormalised so that
    each day's total is kept."""

    def respond(starts: np.ndarray, kwh_e4: np.ndarray, rate_micros: np.ndarray) -> np.ndarray:
        if not len(kwh_e4):
            return kwh_e4
        day = starts.astype("datetime64[D]").astype(np.int64)
        _, inverse = np.unique(day, return_inverse=True)
        rate = np.maximum(rate_micros.astype(float), 1.0)
        mean_rate = np.bincount(inverse, rate) / np.bincount(inverse)
        shifted = kwh_e4 * (rate / mean_rate[inverse]) ** elasticity
        scale = np.bincount(inverse, kwh_e4.astype(float)) / np.maximum(np.bincount(inverse, shifted), 1e-9)
        result: np.ndarray = np.maximum(np.rint(shifted * scale[inverse]).astype(np.int64), 0)
        return result

    return respond


def pv_profile_kwh_e4(starts: np.ndarray, annual_kwh: float, *, utc_offset_hours: float = 0.0) -> np.ndarray:
    """A synthetic PV generation profile (kWh × 10⁴ per interval) scaled to `annual_kwh` a year: a
    half-sine between 06:00 and 18:00 solar time, seasonally weighted (summer ≈ 3 × winter). Used by the
    PV-penetration scenario where no measured PV exists."""
    seconds = starts.astype(np.int64)
    hour = ((seconds / 3600.0) + utc_offset_hours) % 24
    day_of_year = (seconds // 86_400) % 365
    shape = np.where((hour > 6) & (hour < 18), np.sin((hour - 6) / 12 * np.pi), 0.0)
    season = 2.0 + np.cos(2 * np.pi * (day_of_year - 172) / 365)  # highest on day 172 (late June)
    weights = shape * season
    intervals_per_year = 365 * 86_400 / max(int(np.median(np.diff(seconds))) if len(seconds) > 1 else 1800, 1)
    mean_weight = 0.5 * (2 / np.pi) * 2.0  # mean of shape over a day × mean of season
    per_interval = annual_kwh / intervals_per_year
    return np.rint(weights / mean_weight * per_interval * 10_000).astype(np.int64)


def chosen_accounts(account_ids: Sequence[int], share: float, *, seed: int = 0) -> set[int]:
    """A reproducible `share` of the accounts (the PV-penetration scenario's new prosumers)."""
    ordered = sorted(account_ids)
    count = round(share * len(ordered))
    rng = np.random.default_rng(seed)
    return {ordered[i] for i in rng.choice(len(ordered), size=count, replace=False)} if count else set()
