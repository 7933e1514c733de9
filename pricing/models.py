"""models of the pricing app."""
