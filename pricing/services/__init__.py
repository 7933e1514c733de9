"""Writes and domain operations of the pricing app: `tariffs` (tariffs, versions, events, unit rates),
`markets` (markets, prices, feeds), `dynamic` (the dynamic pricing engine, publications and the ledger)."""
