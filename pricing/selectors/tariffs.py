"""Reads of the pricing app: tariffs."""
