"""selectors of the pricing app."""
