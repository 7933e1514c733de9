from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.clearing import Clearing, Fill, Order, clear


def orders(*pairs: tuple[str, str], prefix: str) -> list[Order]:
    """Orders from (price, volume) strings, with ids like "o1", "o2" in input order."""
    return [
        Order(price=Decimal(price), volume=Decimal(volume), id=f"{prefix}{n}")
        for n, (price, volume) in enumerate(pairs, start=1)
    ]


def fills(*pairs: tuple[str, str]) -> list[Fill]:
    return [Fill(id, Decimal(volume)) for id, volume in pairs]


def test_seed_example_clears_200_mwh_at_the_next_offer_price_50():
    offers = orders(("30", "100"), ("40", "100"), ("50", "100"), prefix="o")
    bids = orders(("60", "100"), ("50", "100"), ("40", "100"), prefix="b")

    result = clear(offers, bids)

    assert result == Clearing(
        price=Decimal("50"),
        volume=Decimal("200"),
        accepted_offers=fills(("o1", "100"), ("o2", "100")),
        accepted_bids=fills(("b1", "100"), ("b2", "100")),
        crossed=True,
    )


def test_seed_example_clears_the_same_whatever_the_input_order():
    offers = orders(("50", "100"), ("30", "100"), ("40", "100"), prefix="o")
    bids = orders(("40", "100"), ("60", "100"), ("50", "100"), prefix="b")

    result = clear(offers, bids)

    assert (result.price, result.volume) == (Decimal("50"), Decimal("200"))
    assert result.accepted_offers == fills(("o2", "100"), ("o3", "100"))
    assert result.accepted_bids == fills(("b2", "100"), ("b3", "100"))


def test_a_partly_filled_marginal_offer_sets_the_price():
    offers = orders(("30", "100"), ("40", "50"), prefix="o")
    bids = orders(("60", "120"), prefix="b")

    result = clear(offers, bids)

    assert result.price == Decimal("40")
    assert result.volume == Decimal("120")
    assert result.accepted_offers == fills(("o1", "100"), ("o2", "20"))
    assert result.accepted_bids == fills(("b1", "120"))


def test_a_partly_filled_bid_sets_the_price_when_supply_runs_out():
    offers = orders(("30", "100"), prefix="o")
    bids = orders(("60", "100"), ("20", "50"), prefix="b")

    result = clear(offers, bids)

    assert (result.price, result.volume) == (Decimal("60"), Decimal("100"))
    assert result.accepted_bids == fills(("b1", "100"))


def test_the_price_never_exceeds_the_marginal_accepted_bid():
    offers = orders(("30", "100"), ("70", "100"), prefix="o")
    bids = orders(("60", "100"), prefix="b")

    result = clear(offers, bids)

    assert (result.price, result.volume) == (Decimal("60"), Decimal("100"))


def test_a_bid_equal_to_an_offer_trades():
    offers = orders(("50", "80"), prefix="o")
    bids = orders(("50", "100"), prefix="b")

    result = clear(offers, bids)

    assert (result.price, result.volume, result.crossed) == (Decimal("50"), Decimal("80"), True)


def test_offers_at_equal_prices_fill_in_input_order():
    offers = orders(("40", "50"), ("40", "50"), ("40", "50"), prefix="o")
    bids = orders(("60", "70"), prefix="b")

    result = clear(offers, bids)

    assert result.price == Decimal("40")
    assert result.accepted_offers == fills(("o1", "50"), ("o2", "20"))


def test_bids_at_equal_prices_fill_in_input_order():
    offers = orders(("30", "70"), prefix="o")
    bids = orders(("50", "50"), ("50", "50"), ("50", "50"), prefix="b")

    result = clear(offers, bids)

    assert result.price == Decimal("50")
    assert result.accepted_bids == fills(("b1", "50"), ("b2", "20"))


def test_no_crossing_gives_no_price_and_no_volume():
    offers = orders(("50", "100"), ("60", "100"), prefix="o")
    bids = orders(("49.99", "100"), ("10", "100"), prefix="b")

    assert clear(offers, bids) == Clearing(price=None, volume=Decimal(0), crossed=False)


@pytest.mark.parametrize(
    ("offers", "bids"),
    [
        ([], [Order(Decimal("60"), Decimal("100"))]),
        ([Order(Decimal("30"), Decimal("100"))], []),
        ([], []),
    ],
    ids=["no offers", "no bids", "nothing"],
)
def test_an_empty_side_does_not_cross(offers, bids):
    assert clear(offers, bids) == Clearing(price=None, volume=Decimal(0), crossed=False)


def test_orders_without_an_id_are_named_by_their_position():
    offers = [Order(Decimal("-10"), Decimal("5")), Order(Decimal("-20"), Decimal("5"))]
    bids = [Order(Decimal("0"), Decimal("7.5"))]

    result = clear(offers, bids)

    assert result.price == Decimal("-10")
    assert result.accepted_offers == fills(("offers[1]", "5"), ("offers[0]", "2.5"))
    assert result.accepted_bids == fills(("bids[0]", "7.5"))


@pytest.mark.parametrize(
    ("offers", "bids", "message"),
    [
        ([Order(Decimal("30"), Decimal("0"))], [], r"offers\[0\]\.volume must be positive"),
        (
            [
                Order(Decimal("30"), Decimal("1")),
                Order(Decimal("40"), Decimal("1")),
                Order(Decimal("50"), Decimal("-1")),
            ],
            [],
            r"offers\[2\]\.volume must be positive",
        ),
        ([Order(Decimal("30"), 1)], [], r"offers\[0\]\.volume must be a finite Decimal"),
        ([Order(Decimal("30"), Decimal("1"))], [Order(Decimal("NaN"), Decimal("1"))], r"bids\[0\]\.price"),
        ([], [Order(Decimal("Infinity"), Decimal("1"))], r"bids\[0\]\.price must be a finite Decimal"),
        ([Order(30.0, Decimal("1"))], [], r"offers\[0\]\.price must be a finite Decimal"),
        ([], [Order(Decimal("30"), Decimal("-5"))], r"bids\[0\]\.volume must be positive"),
    ],
)
def test_bad_orders_are_refused_naming_the_order_and_field(offers, bids, message):
    with pytest.raises(ValueError, match=message):
        clear(offers, bids)


small_orders = st.lists(
    st.tuples(st.integers(-5, 20), st.integers(1, 4)).map(
        lambda pair: Order(Decimal(pair[0]), Decimal(pair[1]))
    ),
    max_size=6,
)


@settings(max_examples=100, deadline=None)
@given(offers=small_orders, bids=small_orders)
def test_the_price_is_the_mth_highest_unit_price_and_the_volume_is_efficient(offers, bids):
    result = clear(offers, bids)

    offer_units = sorted(o.price for o in offers for _ in range(int(o.volume)))
    bid_units = sorted((b.price for b in bids for _ in range(int(b.volume))), reverse=True)
    efficient = sum(1 for ask, bid in zip(offer_units, bid_units, strict=False) if bid >= ask)
    assert result.volume == efficient
    assert sum(f.volume for f in result.accepted_offers) == sum(f.volume for f in result.accepted_bids)
    if efficient:
        all_units = sorted(offer_units + bid_units, reverse=True)
        assert result.price == all_units[len(offer_units) - 1]
    else:
        assert (result.price, result.crossed) == (None, False)
