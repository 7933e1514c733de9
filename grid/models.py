"""models of the grid app."""
