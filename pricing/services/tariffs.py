"""Writes of the pricing app: tariffs."""
