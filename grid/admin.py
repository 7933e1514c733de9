"""admin of the grid app."""
