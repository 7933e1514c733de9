"""Writes of the pricing app: dynamic pricing and the ledger."""
