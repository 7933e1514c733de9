"""admin of the pricing app."""
