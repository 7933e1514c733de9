"""What the bill arithmetic takes and gives, shared by `billing.engine` and `billing.commercial`: meters'
readings, priced tariff versions, agreements and feeder loads in; lines, taxes and bills out.

Pure Python with numpy, no Django (representation as in `billing.engine`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from pricing import engine as rates
from pricing.documents import TariffDocument


class BillHeld(Exception):
    """The account cannot be billed as it stands (missing readings, no tariff version, no price)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


@dataclass(frozen=True)
class MeterSeries:
    """One meter's readings: `starts` (datetime64[s] UTC), `kwh_e4` (int64), `estimated` (bool)."""

    serial: str
    direction: str
    interval_seconds: int
    installed_at: datetime
    removed_at: datetime | None
    starts: np.ndarray
    kwh_e4: np.ndarray
    estimated: np.ndarray


@dataclass(frozen=True)
class LoadSeries:
    """Summed import of a feeder or of the whole system per interval: starts (datetime64[s] UTC), kwh_e4."""

    starts: np.ndarray
    kwh_e4: np.ndarray


@dataclass(frozen=True)
class PricedVersion:
    """A tariff version with what its rates need: market prices, published rates, declared events."""

    version_id: int
    valid_from: datetime
    valid_to: datetime | None
    document: TariffDocument
    market: rates.PriceSeries | None = None
    published: rates.PriceSeries | None = None
    events: tuple[rates.Event, ...] = ()


@dataclass(frozen=True)
class AgreementInput:
    """One agreement of the account: its period, its tariffs' versions and its meters."""

    valid_from: datetime
    valid_to: datetime | None
    import_versions: Sequence[PricedVersion]
    export_versions: Sequence[PricedVersion] = ()
    meters: Sequence[MeterSeries] = ()
    label: str = ""
    # Coincident peak demand (billing.commercial): summed import of the meter point's feeder / the system.
    feeder_load: LoadSeries | None = None
    system_load: LoadSeries | None = None
    # The agreement's own minimum charge per month before tax (billing.models.Agreement), prorated by day.
    minimum_charge_per_month: Decimal | None = None


@dataclass(frozen=True)
class Line:
    kind: str
    band: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    amount: Decimal
    version_id: int
    estimated: bool = False
    # A rider's own tax treatment (billing.commercial): exempt, or its own (name, rate) instead of the
    # version's.
    tax_exempt: bool = False
    own_tax: tuple[str, Decimal] | None = None


@dataclass(frozen=True)
class TaxCharge:
    name: str
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Bill:
    currency: str
    lines: list[Line]
    taxes: list[TaxCharge]
    net: Decimal
    tax: Decimal
    total: Decimal
    versions_tax: dict[int, tuple[str, Decimal] | None] = field(default_factory=dict)
