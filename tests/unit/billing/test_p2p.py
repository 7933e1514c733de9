"""Peer-to-peer settlement maths: merit-order clearing per interval and cent-exact settlement."""

from decimal import Decimal

import numpy as np

from billing import p2p

D = Decimal


def party(key, imports, exports, retail=250_000, export=50_000):
    n = len(imports)
    return p2p.Party(
        key=key,
        import_kwh_e4=np.array(imports, dtype=np.int64),
        export_kwh_e4=np.array(exports, dtype=np.int64),
        retail_micros=np.full(n, retail, dtype=np.int64),
        export_micros=np.full(n, export, dtype=np.int64),
    )


def test_excess_supply_clears_at_the_export_rate_and_demand_is_filled():
    result = p2p.settle(
        [party("A", [0, 1000], [3000, 0]), party("B", [1000, 1000], [0, 0]), party("C", [1000, 0], [0, 0])],
        fee_micros=20_000,
    )
    assert result.price_micros.tolist() == [50_000, 0]  # the second interval has no surplus
    assert (result.bought_kwh_e4["B"].tolist(), result.bought_kwh_e4["C"].tolist()) == ([1000, 0], [1000, 0])
    assert result.sold_kwh_e4["A"].tolist() == [2000, 0]
    # 0.1 kWh × 0.05 = 0.005 each: the community's 0.01 goes to the larger remainder, ties by key (B)
    assert (result.purchase["B"], result.purchase["C"], result.sale["A"]) == (
        D("0.01"),
        D("0.00"),
        D("-0.01"),
    )
    assert result.fee == {"A": D("0.00"), "B": D("0.00"), "C": D("0.00")}  # 0.1 kWh × 0.02 = 0.002


def test_scarce_supply_clears_at_the_marginal_buyers_retail_rate_less_the_fee():
    result = p2p.settle(
        [party("A", [0], [1500]), party("B", [1000], [0]), party("C", [1000], [0])], fee_micros=20_000
    )
    assert result.price_micros.tolist() == [230_000]
    assert (int(result.bought_kwh_e4["B"][0]), int(result.bought_kwh_e4["C"][0])) == (1000, 500)


def test_purchases_and_sales_add_up_to_zero_for_many_random_communities():
    rng = np.random.default_rng(7)
    for _ in range(20):
        parties = [
            party(
                f"P{i}",
                rng.integers(0, 3000, 48) * (rng.random(48) < 0.7),
                rng.integers(0, 3000, 48) * (rng.random(48) < 0.3),
                retail=int(rng.integers(150_000, 350_000)),
                export=int(rng.integers(0, 100_000)),
            )
            for i in range(6)
        ]
        result = p2p.settle(parties, fee_micros=15_000)
        assert sum(result.purchase.values()) + sum(result.sale.values()) == 0
        bought = sum(int(v.sum()) for v in result.bought_kwh_e4.values())
        assert bought == sum(int(v.sum()) for v in result.sold_kwh_e4.values())
        for p in parties:  # nobody trades more than they had, nor both ways in one interval beyond their own
            assert (result.bought_kwh_e4[p.key] <= p.import_kwh_e4).all()
            assert (result.sold_kwh_e4[p.key] <= p.export_kwh_e4).all()


def test_largest_remainder_cents_by_hand():
    # exact 0.184 and 0.092 → total 0.276 → 0.28; floors 0.18 + 0.09, the cent to the larger remainder
    assert p2p.largest_remainder_cents({"B": 1_840_000_000, "C": 920_000_000}) == {
        "B": D("0.19"),
        "C": D("0.09"),
    }
    assert p2p.largest_remainder_cents({"A": -2_760_000_000}) == {"A": D("-0.28")}
