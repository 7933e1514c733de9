"""Balancing with price signals: what-if of a candidate band signal; balancing runs, published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction

from core.errors import DomainError
from grid.models import BalancingRun, FeederLimit
from grid.optimize.balancing import FeederOutcome, signal_balance, signal_what_if
from grid.optimize.response import BANDS, trial_model
from grid.services import storage_inputs as inputs

STEP = timedelta(minutes=30)
# The tariff's announced bands (the 2013 trial's dToU rates, per kWh): every adder keeps the rate in
# [Low, High].
BAND_RATES = {"Low": Decimal("0.0399"), "Normal": Decimal("0.1176"), "High": Decimal("0.6720")}


class UnableToBalance(DomainError):
    code = "unable_to_balance"


@dataclass(frozen=True)
class WhatIf:
    starts: list[datetime]
    bands: list[str]
    feeders: dict[str, FeederOutcome]

    @property
    def peak_before_kw(self) -> float:
        return float(sum(f.before_kw for f in self.feeders.values()).max())

    @property
    def peak_after_kw(self) -> float:
        return float(sum(f.after_kw for f in self.feeders.values()).max())


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
    codes = _feeders(feeder_codes)
    limits = {
        f.feeder_code: float(f.import_limit_kw) for f in FeederLimit.objects.filter(feeder_code__in=codes)
    }
    outcomes = signal_what_if(
        baseline_kw=feeder_baselines_kw(feeder_codes=codes, starts=starts, as_of=as_of),
        bands=bands,
        hours=inputs.local_hours(starts, _zone()),
        model=trial_model(),
        limits_kw=limits,
    )
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
    codes = _feeders(feeder_codes)
    limits = {
        f.feeder_code: float(f.import_limit_kw) for f in FeederLimit.objects.filter(feeder_code__in=codes)
    }
    result = signal_balance(
        baseline_kw=feeder_baselines_kw(feeder_codes=codes, starts=starts, as_of=as_of),
        limits_kw=limits,
        hours=inputs.local_hours(starts, _zone()),
        model=trial_model(),
        dt_h=STEP.total_seconds() / 3600,
    )
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
            publication_revision=revision,
            created_at=now,
        )
