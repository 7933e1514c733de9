"""Clear a day-ahead style auction by merit order: supply offers against demand bids at one uniform price.

Walk. Offers are sorted ascending by price and bids descending, both stably, so orders at equal prices are
filled in input order. While the best remaining bid price is >= the best remaining offer price, the two trade
min(remaining bid volume, remaining offer volume); orders may be partly filled. The walk maximises the traded
volume (and the surplus) over every allocation that pairs bids with offers they accept.

Price. After the walk, every price p with

    lower = max(price of the last (partly) accepted offer, price of the best bid with volume left)
    upper = min(price of the last (partly) accepted bid,   price of the best offer with volume left)

clears the market: every accepted order is willing to trade at p and no order with volume left wants to (a
missing term drops out of its max/min). On the stepwise curves this interval is where supply meets demand.
The clearing price is `upper`, the marginal cost of one more MWh of demand: the price of the next offer that
would be dispatched, or, if that is dearer than the marginal accepted bid (or no offer is left), the price of
that bid, from which the MWh would have to be taken. Counted in MWh units this is the M-th price rule of
Wurman, Walsh and Wellman (1998): with M the offered volume, the price is the M-th highest of all unit prices.
When the marginal offer is only partly accepted, it is also the best offer with volume left, so the price is
the marginal offer's price; the rules differ only when the marginal offer is exhausted exactly.

Seed example, offers 30/40/50 and bids 60/50/40, 100 MWh each:

    bid 60 x offer 30 -> 100 MWh; bid 50 x offer 40 -> 100 MWh; bid 40 < offer 50 -> stop.
    volume 200 MWh; lower = max(40, 40) = 40; upper = min(50, 50) = 50 -> price 50.

Any price in [40, 50] clears 200 MWh; the marginal-offer price (40) is the lower end and a midpoint rule would
give 45. The market clears at 50 because the next MWh would come from the offer at 50.

Prices are per MWh and volumes in MWh, both exact `Decimal`; the price is returned as given by the order that
sets it, unrounded.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Order:
    """A supply offer or a demand bid: `volume` MWh at `price` per MWh or better."""

    price: Decimal
    volume: Decimal
    id: str | None = None


class Fill(NamedTuple):
    """Accepted volume (MWh) of one order; `id` falls back to the order's position, e.g. "offers[2]"."""

    id: str
    volume: Decimal


@dataclass(frozen=True, slots=True)
class Clearing:
    """Result of `clear`: the uniform price per MWh (None without a trade), traded MWh and the fills."""

    price: Decimal | None
    volume: Decimal
    accepted_offers: list[Fill] = field(default_factory=list)
    accepted_bids: list[Fill] = field(default_factory=list)
    crossed: bool = False


def clear(offers: Sequence[Order], bids: Sequence[Order]) -> Clearing:
    """Match `offers` against `bids` in merit order and price the result by the rule in the module docstring.

    Fills are listed in merit order, one per order that traded. Without a crossing (an empty side, or the
    highest bid below the lowest offer) the price is None, the volume 0 and `crossed` False.
    Raise ValueError naming the order and field, e.g. "offers[2].volume must be positive", for a price or
    volume that is not a finite Decimal or a volume that is not positive.
    """
    _validate(offers, "offers")
    _validate(bids, "bids")
    offer_order = sorted(range(len(offers)), key=lambda i: offers[i].price)
    bid_order = sorted(range(len(bids)), key=lambda i: bids[i].price, reverse=True)  # reverse keeps stability

    offer_left = [offers[i].volume for i in offer_order]
    bid_left = [bids[i].volume for i in bid_order]
    offer_fills = [Decimal(0)] * len(offers)
    bid_fills = [Decimal(0)] * len(bids)
    o = b = 0
    while o < len(offer_order) and b < len(bid_order):
        offer, bid = offers[offer_order[o]], bids[bid_order[b]]
        if bid.price < offer.price:
            break
        traded = min(offer_left[o], bid_left[b])
        offer_fills[o] += traded
        bid_fills[b] += traded
        offer_left[o] -= traded
        bid_left[b] -= traded
        if offer_left[o] == 0:
            o += 1
        if bid_left[b] == 0:
            b += 1

    volume = sum(offer_fills, Decimal(0))
    if volume == 0:
        return Clearing(price=None, volume=Decimal(0))

    # The last bid that traded is b if it is partly filled, else b - 1; the best offer left is o, if any.
    marginal_bid_price = bids[bid_order[b if b < len(bid_order) and bid_fills[b] > 0 else b - 1]].price
    price = (
        marginal_bid_price if o == len(offer_order) else min(marginal_bid_price, offers[offer_order[o]].price)
    )
    return Clearing(
        price=price,
        volume=volume,
        accepted_offers=_fills(offers, offer_order, offer_fills, "offers"),
        accepted_bids=_fills(bids, bid_order, bid_fills, "bids"),
        crossed=True,
    )


def _validate(orders: Sequence[Order], side: str) -> None:
    for index, order in enumerate(orders):
        for name in ("price", "volume"):
            value = getattr(order, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(f"{side}[{index}].{name} must be a finite Decimal, got {value!r}")
        if order.volume <= 0:
            raise ValueError(f"{side}[{index}].volume must be positive, got {order.volume}")


def _fills(orders: Sequence[Order], merit_order: list[int], filled: list[Decimal], side: str) -> list[Fill]:
    return [
        Fill(id=order_id if (order_id := orders[i].id) is not None else f"{side}[{i}]", volume=volume)
        for i, volume in zip(merit_order, filled, strict=True)
        if volume > 0
    ]
