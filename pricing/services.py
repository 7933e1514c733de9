"""services of the pricing app."""
