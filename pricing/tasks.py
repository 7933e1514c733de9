"""tasks of the pricing app."""
