"""Reads of the pricing app: ledger."""
