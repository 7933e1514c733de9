"""services of the grid app."""
