"""tasks of the grid app."""
