"""Writes and domain operations of the pricing app: `tariffs` (tariffs, versions, events, unit rates),
`markets` (markets and their prices) with `market_feeds` (price files and feeds), `dynamic` (the dynamic
pricing engine and its publications), `ledger` (the price ledger's signed head), `demo` (the demo's steps)."""
