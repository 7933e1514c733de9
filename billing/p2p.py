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

Storage (`dispatch_batteries`, before clearing): members' batteries behind their meters shift surplus in
time, greedily per interval (members in the order given): each battery first charges from its own member's
surplus; if the community still has a surplus, batteries with room charge from it (their member imports it,
bought from neighbours when the clearing matches it); if it has a deficit instead, batteries that did not
charge discharge into it, first into their own member's demand, then into neighbours' (their member exports
it, sold to neighbours), never more than the deficit (a neighbour's surplus is used before stored energy).
The member's import and export after its battery are what `settle` clears. Energy is integral 0.0001 kWh;
charging loses (1 − efficiency) of what goes in (round-trip efficiency applied on charge, rounded down), so
per member import − export after = import − export before + charged − discharged, and the state of charge
moves by charged − losses − discharged.
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


@dataclass(frozen=True)
class Battery:
    """A member's battery: usable capacity and the most it charges or discharges in one interval
    (power × interval length), both in 0.0001 kWh; round-trip efficiency in parts per million."""

    capacity_kwh_e4: int
    power_kwh_e4: int
    efficiency_ppm: int = 900_000
    initial_kwh_e4: int = 0

    def __post_init__(self) -> None:
        if self.capacity_kwh_e4 < 0 or self.power_kwh_e4 < 0:
            raise ValueError("a battery's capacity and power are not negative")
        if not 0 < self.efficiency_ppm <= 1_000_000:
            raise ValueError("a battery's efficiency is in (0, 1]")
        if not 0 <= self.initial_kwh_e4 <= self.capacity_kwh_e4:
            raise ValueError("a battery's initial charge is within its capacity")


@dataclass(frozen=True)
class Storage:
    """What the batteries did, per member with a battery (0.0001 kWh per interval): charged (energy taken
    in, from the own surplus or the community), discharged (energy delivered), state of charge at each
    interval's end; `own` and `community` split charged/discharged by whose energy it was."""

    parties: list[Party]  # every member's flows after its battery (members without one unchanged)
    charged_own_kwh_e4: dict[str, np.ndarray]
    charged_community_kwh_e4: dict[str, np.ndarray]
    discharged_own_kwh_e4: dict[str, np.ndarray]
    discharged_community_kwh_e4: dict[str, np.ndarray]
    state_kwh_e4: dict[str, np.ndarray]
    losses_kwh_e4: dict[str, int]

    def charged(self, key: str) -> np.ndarray:
        total: np.ndarray = self.charged_own_kwh_e4[key] + self.charged_community_kwh_e4[key]
        return total

    def discharged(self, key: str) -> np.ndarray:
        total: np.ndarray = self.discharged_own_kwh_e4[key] + self.discharged_community_kwh_e4[key]
        return total


def _stored(charged: np.ndarray, efficiency_ppm: np.ndarray) -> np.ndarray:
    kept: np.ndarray = charged * efficiency_ppm // 1_000_000
    return kept


def _allocate(amount: int, limits: np.ndarray) -> np.ndarray:
    """Give `amount` to the members in order, each up to its limit (greedy, deterministic)."""
    before = np.cumsum(limits) - limits
    given: np.ndarray = np.clip(amount - before, 0, limits)
    return given


def dispatch_batteries(parties: Sequence[Party], batteries: dict[str, Battery]) -> Storage:
    """Greedy battery dispatch in the community (see the module docstring); members without a battery are
    unchanged. Members are served in the order given (keys sorted by the caller for determinism)."""
    keys = [p.key for p in parties]
    owners = [i for i, p in enumerate(parties) if p.key in batteries]
    n = len(parties[0].import_kwh_e4) if parties else 0
    imports = np.vstack([p.import_kwh_e4 for p in parties]).astype(np.int64) if parties else np.zeros((0, 0))
    exports = np.vstack([p.export_kwh_e4 for p in parties]).astype(np.int64) if parties else np.zeros((0, 0))
    imports, exports = imports.copy(), exports.copy()
    specs = [batteries[keys[i]] for i in owners]
    capacity = np.array([b.capacity_kwh_e4 for b in specs], dtype=np.int64)
    power = np.array([b.power_kwh_e4 for b in specs], dtype=np.int64)
    efficiency = np.array([b.efficiency_ppm for b in specs], dtype=np.int64)
    state = np.array([b.initial_kwh_e4 for b in specs], dtype=np.int64)
    m = len(owners)
    charged_own, charged_community = np.zeros((m, n), np.int64), np.zeros((m, n), np.int64)
    discharged_own, discharged_community = np.zeros((m, n), np.int64), np.zeros((m, n), np.int64)
    states, stored = np.zeros((m, n), np.int64), np.zeros((m, n), np.int64)
    rows = np.array(owners, dtype=np.int64)
    for t in range(n) if m else ():
        # 1. each battery charges from its own member's surplus
        room = (capacity - state) * 1_000_000 // efficiency  # input that still fits
        charge = np.minimum(np.minimum(exports[rows, t], power), room)
        exports[rows, t] -= charge
        stored[:, t] = _stored(charge, efficiency)
        state += stored[:, t]
        charged_own[:, t] = charge
        surplus = int(exports[:, t].sum()) - int(imports[:, t].sum())
        if surplus > 0:
            # 2. the community's remaining surplus into batteries with room (their members buy it)
            headroom = np.maximum(np.minimum(power - charge, (capacity - state) * 1_000_000 // efficiency), 0)
            extra = _allocate(surplus, headroom)
            imports[rows, t] += extra
            kept = _stored(extra, efficiency)
            stored[:, t] += kept
            state += kept
            charged_community[:, t] = extra
        elif surplus < 0:
            # 3. the community's demand that neighbours' surplus leaves: first each battery's own member,
            # then neighbours (their members sell it); a battery that charged this interval stays out
            idle = charge == 0
            own = _allocate(
                -surplus, np.where(idle, np.minimum(np.minimum(imports[rows, t], power), state), 0)
            )
            imports[rows, t] -= own
            state -= own
            discharged_own[:, t] = own
            extra = _allocate(-surplus - int(own.sum()), np.where(idle, np.minimum(power - own, state), 0))
            exports[rows, t] += extra
            state -= extra
            discharged_community[:, t] = extra
        states[:, t] = state
    after = [
        Party(p.key, imports[i], exports[i], p.retail_micros, p.export_micros) if p.key in batteries else p
        for i, p in enumerate(parties)
    ]
    position = {keys[i]: j for j, i in enumerate(owners)}
    losses = charged_own + charged_community - stored
    return Storage(
        parties=after,
        charged_own_kwh_e4={k: charged_own[j] for k, j in position.items()},
        charged_community_kwh_e4={k: charged_community[j] for k, j in position.items()},
        discharged_own_kwh_e4={k: discharged_own[j] for k, j in position.items()},
        discharged_community_kwh_e4={k: discharged_community[j] for k, j in position.items()},
        state_kwh_e4={k: states[j] for k, j in position.items()},
        losses_kwh_e4={k: int(losses[j].sum()) for k, j in position.items()},
    )


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
