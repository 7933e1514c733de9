"""selectors of the grid app."""
