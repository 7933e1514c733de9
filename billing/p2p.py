"""Peer-to-peer trading in a feeder community (docs/tariff-analytics.md): per interval, prosumers' surplus
is sold to neighbours' demand at one uniform price by the pricing app's merit-order clearing, and settled.

Per interval: every party with export offers it at its export rate (what the grid would pay); every party
with import bids its retail rate minus the network fee (what the kWh is worth to it, fee paid). Offers and
bids are cleared by `pricing.clearing.clear`, so the price lies between the marginal export and retail
rates. A buyer pays price + fee per kWh bought and imports that much less from the grid; a seller is paid
the price and exports that much less to the grid.

Settlement is exact: energy in 0.0001 kWh, prices in micro-units, sums in 1e-10. Each party's purchase
and sale amounts are rounded to cents by the largest-remainder method over the community, so that the
purchase lines and the sale lines add up to exactly zero (the community's total, ROUND_HALF_UP, is split;
no party is more than one cent from its exact amount). Fees are ROUND_HALF_UP per party. Pure Python with
numpy, no Django.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from pricing.clearing import Order, clear

E10_PER_CENT = 10**8


@dataclass(frozen=True)
class Party:
    """One prosumer or consumer of the community over the period's intervals (the same `starts` for all):
    import and export in 0.0001 kWh, its retail and export rates in micro-units per kWh."""

    key: str
    import_kwh_e4: np.ndarray
    export_kwh_e4: np.ndarray
    retail_micros: np.ndarray
    export_micros: np.ndarray


@dataclass(frozen=True)
class Settlement:
    """Per party: kWh bought and sold (0.0001 kWh) per interval, and the rounded amounts; per interval the
    clearing price (micro-units per kWh, 0 without a trade)."""

    bought_kwh_e4: dict[str, np.ndarray]
    sold_kwh_e4: dict[str, np.ndarray]
    purchase: dict[str, Decimal]
    sale: dict[str, Decimal]  # negative: a credit
    fee: dict[str, Decimal]
    price_micros: np.ndarray

    @property
    def traded_kwh_e4(self) -> int:
        return int(sum(int(v.sum()) for v in self.bought_kwh_e4.values()))


def settle(parties: Sequence[Party], *, fee_micros: int) -> Settlement:
    """Clear every interval and settle the community (see the module docstring)."""
    if not parties:
        raise ValueError("a community needs at least one party")
    n = len(parties[0].import_kwh_e4)
    bought = {p.key: np.zeros(n, dtype=np.int64) for p in parties}
    sold = {p.key: np.zeros(n, dtype=np.int64) for p in parties}
    price = np.zeros(n, dtype=np.int64)
    imports = np.vstack([p.import_kwh_e4 for p in parties])
    exports = np.vstack([p.export_kwh_e4 for p in parties])
    # Only intervals with both a surplus and a demand can trade.
    for t in np.flatnonzero((imports.sum(axis=0) > 0) & (exports.sum(axis=0) > 0)).tolist():
        offers = [
            Order(Decimal(int(p.export_micros[t])), Decimal(int(p.export_kwh_e4[t])), p.key)
            for p in parties
            if p.export_kwh_e4[t] > 0
        ]
        bids = [
            Order(Decimal(int(p.retail_micros[t]) - fee_micros), Decimal(int(p.import_kwh_e4[t])), p.key)
            for p in parties
            if p.import_kwh_e4[t] > 0
        ]
        result = clear(offers, bids)
        if not result.crossed or result.price is None:
            continue
        price[t] = int(result.price)
        for fill in result.accepted_offers:
            sold[fill.id][t] = int(fill.volume)
        for fill in result.accepted_bids:
            bought[fill.id][t] = int(fill.volume)
    keys = [p.key for p in parties]
    purchase_e10 = {k: int(np.dot(bought[k].astype(object), price.astype(object))) for k in keys}
    sale_e10 = {k: -int(np.dot(sold[k].astype(object), price.astype(object))) for k in keys}
    fee = {k: _half_up_cents(int(bought[k].sum()) * fee_micros) for k in keys}
    return Settlement(
        bought_kwh_e4=bought,
        sold_kwh_e4=sold,
        purchase=largest_remainder_cents(purchase_e10),
        sale=largest_remainder_cents(sale_e10),
        fee=fee,
        price_micros=price,
    )


def _half_up_cents(amount_e10: int) -> Decimal:
    quotient = (2 * abs(amount_e10) + E10_PER_CENT) // (2 * E10_PER_CENT)
    return Decimal(-quotient if amount_e10 < 0 else quotient).scaleb(-2)


def largest_remainder_cents(amounts_e10: dict[str, int]) -> dict[str, Decimal]:
    """Round each amount (1e-10 units, all of one sign) to cents so that they add up to the ROUND_HALF_UP
    cents of their exact total: floor each, then give the missing cents to the largest remainders (ties by
    key, so the result is deterministic)."""
    if not amounts_e10:
        return {}
    sign = -1 if sum(amounts_e10.values()) < 0 else 1
    magnitudes = {k: sign * v for k, v in amounts_e10.items()}
    if any(v < 0 for v in magnitudes.values()):
        raise ValueError("largest-remainder rounding needs amounts of one sign")
    total = int(_half_up_cents(sum(magnitudes.values())).scaleb(2))
    floors = {k: v // E10_PER_CENT for k, v in magnitudes.items()}
    missing = total - sum(floors.values())
    order = sorted(magnitudes, key=lambda k: (-(magnitudes[k] % E10_PER_CENT), k))
    for k in order[:missing]:
        floors[k] += 1
    return {k: Decimal(sign * floors[k]).scaleb(-2) for k in amounts_e10}
