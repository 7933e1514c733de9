"""Feeder import/export limits from a network's transformer ratings (Django-free).

Buses joined by in-service lines (and closed bus-bus switches) form islands; the in-service transformers whose
low-voltage bus lies in an island feed it. A feeder's limit is its share of those transformers' rating:
Σ over islands of (Σ sn_mva of the island's transformers) × power factor × (the feeder's stored load in the
island / all stored load in the island), in kW. Several feeders behind one transformer share it in proportion
to their load, so their limits together equal the transformer's rating.
"""

from __future__ import annotations

from collections.abc import Iterable


def _find(parent: dict[int, int], bus: int) -> int:
    root = bus
    while parent.get(root, root) != root:
        root = parent[root]
    while parent.get(bus, bus) != root:  # path compression
        parent[bus], bus = root, parent[bus]
    return root


def feeder_limits_from_transformers(
    *,
    lines: Iterable[tuple[int, int]],
    bus_links: Iterable[tuple[int, int]],
    transformers: Iterable[tuple[int, float]],
    loads: Iterable[tuple[int, float, str]],
    power_factor: float,
) -> dict[str, float]:
    """{feeder: limit kW} from in-service `lines` (from_bus, to_bus), closed bus-bus switches `bus_links`,
    in-service `transformers` (lv_bus, sn_mva) and `loads` (bus, p_mw, feeder code; "" = unmapped)."""
    parent: dict[int, int] = {}
    for a, b in (*lines, *bus_links):
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[ra] = rb
    rating: dict[int, float] = {}
    for lv_bus, sn_mva in transformers:
        island = _find(parent, lv_bus)
        rating[island] = rating.get(island, 0.0) + float(sn_mva)
    load_total: dict[int, float] = {}
    feeder_load: dict[tuple[str, int], float] = {}
    for bus, p_mw, feeder in loads:
        island = _find(parent, bus)
        share = max(float(p_mw), 0.0)
        load_total[island] = load_total.get(island, 0.0) + share
        if feeder:
            feeder_load[(feeder, island)] = feeder_load.get((feeder, island), 0.0) + share
    limits: dict[str, float] = {}
    for (feeder, island), p_mw in feeder_load.items():
        total = load_total[island]
        if island not in rating or total <= 0:
            continue
        limits[feeder] = limits.get(feeder, 0.0) + rating[island] * power_factor * 1000.0 * p_mw / total
    return limits
