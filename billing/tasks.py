"""tasks of the billing app."""
