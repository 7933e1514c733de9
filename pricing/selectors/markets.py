"""Reads of the pricing app: markets."""
