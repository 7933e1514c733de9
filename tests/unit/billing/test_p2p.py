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


# --- storage: greedy battery dispatch before clearing ----------------------------------------------------


def assert_energy_balance(before, storage, batteries):
    """Per member: import − export after = before + charged − discharged; the battery's state moves by what it
    kept (charged − losses) less what it delivered; members without a battery are unchanged."""
    for old, new in zip(before, storage.parties, strict=True):
        net_before = old.import_kwh_e4 - old.export_kwh_e4
        net_after = new.import_kwh_e4 - new.export_kwh_e4
        assert (new.import_kwh_e4 >= 0).all()
        assert (new.export_kwh_e4 >= 0).all()
        if old.key not in batteries:
            assert net_after.tolist() == net_before.tolist()
            continue
        charged, discharged = storage.charged(old.key), storage.discharged(old.key)
        assert (net_after - net_before).tolist() == (charged - discharged).tolist()
        battery = batteries[old.key]
        state = storage.state_kwh_e4[old.key]
        kept = int(charged.sum()) - storage.losses_kwh_e4[old.key]
        assert int(state[-1]) == battery.initial_kwh_e4 + kept - int(discharged.sum())
        assert (state >= 0).all()
        assert (state <= battery.capacity_kwh_e4).all()
        assert (charged <= battery.power_kwh_e4).all()
        assert (discharged <= battery.power_kwh_e4).all()
        assert not ((charged > 0) & (discharged > 0)).any()


def test_a_battery_stores_its_own_surplus_and_covers_its_own_evening_demand_by_hand():
    batteries = {"A": p2p.Battery(capacity_kwh_e4=5000, power_kwh_e4=3000, efficiency_ppm=800_000)}
    before = [party("A", [0, 0, 4000, 4000], [3000, 2000, 0, 0])]
    storage = p2p.dispatch_batteries(before, batteries)
    after = storage.parties[0]
    # noon: 0.3 kWh in → 0.24 kept, 0.2 in → 0.16 kept (0.4 stored, 0.1 lost); evening: 0.3 then 0.1 out
    assert storage.charged("A").tolist() == [3000, 2000, 0, 0]
    assert storage.state_kwh_e4["A"].tolist() == [2400, 4000, 1000, 0]
    assert storage.losses_kwh_e4["A"] == 1000
    assert (after.import_kwh_e4.tolist(), after.export_kwh_e4.tolist()) == ([0, 0, 1000, 3000], [0, 0, 0, 0])
    assert_energy_balance(before, storage, batteries)


def test_a_battery_shifts_a_neighbours_surplus_through_the_community_by_hand():
    # A has PV and no battery; B has a battery and no PV; C only consumes.
    batteries = {"B": p2p.Battery(capacity_kwh_e4=10_000, power_kwh_e4=2500, efficiency_ppm=1_000_000)}
    before = [
        party("A", [0, 0, 0], [4000, 4000, 0]),
        party("B", [1000, 1000, 1000], [0, 0, 0]),
        party("C", [500, 500, 3000], [0, 0, 0]),
    ]
    storage = p2p.dispatch_batteries(before, batteries)
    # noon: community surplus 0.4 − 0.15 = 0.25 kWh each half-hour → B's battery (power 0.25) charges it
    assert storage.charged_community_kwh_e4["B"].tolist() == [2500, 2500, 0]
    # evening: B's own 0.1 kWh first, then 0.15 kWh of C's demand (power 0.25 in all), from 0.5 kWh stored
    assert storage.discharged_own_kwh_e4["B"].tolist() == [0, 0, 1000]
    assert storage.discharged_community_kwh_e4["B"].tolist() == [0, 0, 1500]
    b = storage.parties[1]
    assert (b.import_kwh_e4.tolist(), b.export_kwh_e4.tolist()) == ([3500, 3500, 0], [0, 0, 1500])
    assert_energy_balance(before, storage, batteries)
    # the clearing then moves the stored energy to C at the evening interval, and A's surplus to B at noon
    result = p2p.settle(storage.parties, fee_micros=20_000)
    assert result.bought_kwh_e4["C"].tolist() == [500, 500, 1500]
    assert result.sold_kwh_e4["B"].tolist() == [0, 0, 1500]
    assert result.bought_kwh_e4["B"].tolist() == [3500, 3500, 0]
    assert sum(result.purchase.values()) + sum(result.sale.values()) == 0


def test_batteries_keep_energy_balance_in_random_communities():
    rng = np.random.default_rng(11)
    for _ in range(15):
        before = [
            party(
                f"P{i}",
                rng.integers(0, 3000, 96) * (rng.random(96) < 0.6),
                rng.integers(0, 4000, 96) * (rng.random(96) < 0.4),
            )
            for i in range(5)
        ]
        batteries = {
            f"P{i}": p2p.Battery(
                capacity_kwh_e4=int(rng.integers(0, 100_000)),
                power_kwh_e4=int(rng.integers(0, 25_000)),
                efficiency_ppm=int(rng.integers(700_000, 1_000_001)),
            )
            for i in range(5)
            if rng.random() < 0.6
        }
        storage = p2p.dispatch_batteries(before, batteries)
        assert_energy_balance(before, storage, batteries)
        # community: what left the grid balance is exactly what went into the batteries, less what came out
        net = sum(int((p.import_kwh_e4 - p.export_kwh_e4).sum()) for p in storage.parties)
        net_before = sum(int((p.import_kwh_e4 - p.export_kwh_e4).sum()) for p in before)
        moved = sum(int((storage.charged(k) - storage.discharged(k)).sum()) for k in batteries)
        assert net == net_before + moved
        result = p2p.settle(storage.parties, fee_micros=10_000)
        assert sum(result.purchase.values()) + sum(result.sale.values()) == 0
