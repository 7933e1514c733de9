"""Reads of the pricing app, by sub-domain: `tariffs`, `markets`, `ledger`."""
