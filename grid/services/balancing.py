"""Balancing with price signals: what-if of a candidate band signal; balancing runs, published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction

from core.errors import DomainError
from grid.models import BalancingRun, BatteryAsset, FeederLimit, ScenarioBalancing
from grid.optimize.balancing import FeederOutcome, FeederPeaks, signal_balance, signal_what_if
from grid.optimize.response import BANDS, ResponseModel, rate_response, trial_model
from grid.services import storage_inputs as inputs
from grid.services.storage import feeder_limits_kw

STEP = timedelta(minutes=30)
# The tariff's announced bands (the 2013 trial's dToU rates, per kWh): every adder keeps the rate in
# [Low, High].
BAND_RATES = {"Low": Decimal("0.0399"), "Normal": Decimal("0.1176"), "High": Decimal("0.6720")}


class UnableToBalance(DomainError, code="unable_to_balance"): ...


def consumer_response_model() -> ResponseModel:
    """The consumer-response model balancing uses: GRID_CONSUMER_RESPONSE_FILE when set (a model saved by
    `ResponseModel.save`, e.g. re-estimated on newer data), else the 2013 London trial's."""
    from pathlib import Path

    from django.conf import settings

    path = getattr(settings, "GRID_CONSUMER_RESPONSE_FILE", "")
    return ResponseModel.load(Path(path)) if path else trial_model()


def consumer_response_hook():
    """The same model as a hook on unit rates, `(starts, kwh_e4, rate_micros) -> kwh_e4`: the signature of
    billing's tariff comparison (`billing.comparison.ConsumerResponse`), which config wires it into (billing
    and grid do not import each other)."""
    return rate_response(
        consumer_response_model(),
        band_rates_per_kwh={band: float(rate) for band, rate in BAND_RATES.items()},
        zone=_zone(),
    )


@dataclass(frozen=True)
class WhatIf(FeederPeaks):
    starts: list[datetime]
    bands: list[str]
    feeders: dict[str, FeederOutcome]


def _zone() -> str:
    from django.conf import settings

    return str(settings.GRID_STORAGE_TIME_ZONE)


def _day_starts(day: date) -> list[datetime]:
    """The half hours of the utility's local day: 46, 48 or 50."""
    return inputs.interval_starts(*inputs.local_day_bounds(day, _zone()), STEP)


def feeder_baselines_kw(
    *, feeder_codes: list[str], starts: list[datetime], as_of=None
) -> dict[str, np.ndarray]:
    """kW per interval of each feeder: forecast `feeder:<code>`, else its measured load a week earlier."""
    from metering.selectors.aggregates import load_aggregate_list

    period_end = starts[-1] + STEP
    hours = STEP.total_seconds() / 3600
    baselines = {}
    for code in feeder_codes:
        forecast = inputs.feeder_load_forecast_kwh(
            feeder_code=code, starts=starts, period_end=period_end, as_of=as_of
        )
        if forecast is not None:
            baselines[code] = np.asarray(forecast, dtype=float) / hours
            continue
        values = np.zeros(len(starts))
        index = inputs.history_index(starts, STEP, _zone())
        for row in load_aggregate_list(
            level="feeder", code=code, period_start=min(index), period_end=max(index) + STEP
        ):
            for k in index.get(row.interval_start, ()):
                values[k] = float(row.import_kwh - row.export_kwh) / hours
        baselines[code] = values
    return baselines


def _feeders(feeder_codes: list[str] | None) -> list[str]:
    codes = feeder_codes or list(
        FeederLimit.objects.order_by("feeder_code").values_list("feeder_code", flat=True)
    )
    if not codes:
        raise UnableToBalance("No feeders: give feederCodes or set feeder limits.", field="feederCodes")
    return codes


def _day_inputs(starts: list[datetime], feeder_codes: list[str] | None, as_of) -> dict:
    """What a what-if and a balancing run share: each feeder's baseline, import limit, local hours, model."""
    codes = _feeders(feeder_codes)
    return {
        "baseline_kw": feeder_baselines_kw(feeder_codes=codes, starts=starts, as_of=as_of),
        "limits_kw": {code: imp for code, (imp, _exp) in feeder_limits_kw(feeder_codes=codes).items()},
        "hours": inputs.local_hours(starts, _zone()),
        "model": consumer_response_model(),
    }


def price_signal_what_if(
    *, day: date, bands: list[str], feeder_codes: list[str] | None = None, as_of: datetime | None = None
) -> WhatIf:
    """Predicted load per feeder under a candidate band per half hour of the local `day`, against all
    Normal."""
    starts = _day_starts(day)
    if len(bands) != len(starts):
        raise UnableToBalance(
            f"Give {len(starts)} bands, one per half hour; got {len(bands)}.", field="bands"
        )
    unknown = sorted(set(bands) - set(BANDS))
    if unknown:
        raise UnableToBalance(f"Unknown band {unknown[0]!r}: use Low, Normal or High.", field="bands")
    outcomes = signal_what_if(bands=bands, **_day_inputs(starts, feeder_codes, as_of))
    return WhatIf(starts=starts, bands=list(bands), feeders=outcomes)


def balancing_run(
    *,
    tariff_code: str,
    day: date,
    now: datetime,
    feeder_codes: list[str] | None = None,
    publish: bool = False,
    as_of: datetime | None = None,
) -> BalancingRun:
    """Choose the day's bands so forecast feeder load stays within limits (or its peak is lowest); with
    `publish`, announce them through pricing's ledger (`announced_rates_publish`, idempotent)."""
    from pricing.services.dynamic import AnnouncedRate, announced_rates_publish

    starts = _day_starts(day)
    result = signal_balance(dt_h=STEP.total_seconds() / 3600, **_day_inputs(starts, feeder_codes, as_of))
    with transaction.atomic():
        revision = None
        if publish:
            outcome = announced_rates_publish(
                tariff_code=tariff_code,
                day=day,
                rates=[
                    AnnouncedRate(start, start + STEP, BAND_RATES[band], band)
                    for start, band in zip(starts, result.bands, strict=True)
                ],
                now=now,
            )
            revision = outcome.publication.revision
        return BalancingRun.objects.create(
            tariff_code=tariff_code,
            day=day,
            status="published"
            if publish
            else ("within_limits" if result.within_limits else "limits_exceeded"),
            adders=[
                {
                    "intervalStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "band": band,
                    "adderPerKwh": str(BAND_RATES[band] - BAND_RATES["Normal"]),
                }
                for start, band in zip(starts, result.bands, strict=True)
            ],
            feeder_peaks={
                code: {
                    "limitKw": outcome_.limit_kw,
                    "beforeKw": round(outcome_.peak_before_kw, 3),
                    "afterKw": round(outcome_.peak_after_kw, 3),
                }
                for code, outcome_ in result.feeders.items()
            },
            peak_before_kw=result.peak_before_kw,
            peak_after_kw=result.peak_after_kw,
            shed_kwh_without_signal=result.shed_kwh_without_signal,
            shed_kwh_with_signal=result.shed_kwh_with_signal,
            valley_fill_kwh=result.valley_fill_kwh,
            publication_revision=revision,
            created_at=now,
        )


def scenario_balancing_record(
    *,
    scenario_id: int,
    steps: list[datetime],
    load_mw: np.ndarray,
    worst_step: int | None,
    shed_mw: float,
    feeder_codes: list[str],
    now: datetime,
) -> ScenarioBalancing:
    """Price balancing and the battery fleet in a grid scenario, against its shedding plan (the scenario
    run's hook; idempotent per scenario).

    The target is the load the shedding plan leaves at the worst step (its load − shed). The bands are
    chosen for the network's total load against that target (High where above it, Low in the valley); the
    fleet of batteries on the network's mapped feeders then shaves what is still above it (discharging
    above, recharging in the valley, ending where it started). Both are stored next to the plan."""
    from grid.optimize.balancing import peak_shave

    load = np.asarray(load_mw, dtype=float)
    dt_h = (steps[1] - steps[0]).total_seconds() / 3600 if len(steps) > 1 else 0.25
    worst = int(np.argmax(load)) if worst_step is None else worst_step
    target = float(load[worst] - shed_mw) if shed_mw > 0 else float(load.max())
    result = signal_balance(
        baseline_kw={"network": load},
        limits_kw={"network": target},
        hours=inputs.local_hours(steps, _zone()),
        model=consumer_response_model(),
        dt_h=dt_h,
    )
    balanced = result.feeders["network"].after_kw
    assets = list(
        BatteryAsset.objects.filter(active=True, meter_point__feeder_code__in=feeder_codes).values_list(
            "power_kw", "capacity_kwh", "soc_initial_kwh", "efficiency_charge", "efficiency_discharge"
        )
    )
    power = sum(float(a[0]) for a in assets) / 1000
    energy = sum(float(a[1]) for a in assets) / 1000
    soc = sum(float(a[2]) for a in assets) / 1000
    eta_c = float(np.mean([float(a[3]) for a in assets])) if assets else 0.95
    eta_d = float(np.mean([float(a[4]) for a in assets])) if assets else 0.95
    shave = peak_shave(
        balanced,
        target_kw=target,
        power_kw=power,
        energy_kwh=energy,
        soc_initial_kwh=soc,
        efficiency_charge=eta_c,
        efficiency_discharge=eta_d,
        dt_h=dt_h,
    )
    values = {
        "bands": result.bands,
        "battery_mw": [round(float(v), 6) for v in shave.battery_kw],
        "units": len(assets),
        "peak_base_mw": float(load.max()),
        "target_mw": target,
        "shed_mw": float(shed_mw),
        "peak_with_balancing_mw": float(balanced.max()),
        "peak_with_storage_mw": float(shave.after_kw.max()),
        "residual_shed_mw": max(float(shave.after_kw[worst]) - target, 0.0) if shed_mw > 0 else 0.0,
        "battery_discharge_mwh": shave.discharge_kwh,  # MW × h: the arrays are in MW here
        "battery_charge_mwh": shave.charge_kwh,
        "created_at": now,
    }
    record, _created = ScenarioBalancing.objects.update_or_create(scenario_id=scenario_id, defaults=values)
    return record
