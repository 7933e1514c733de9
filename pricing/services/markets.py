"""Writes of the pricing app: markets."""
