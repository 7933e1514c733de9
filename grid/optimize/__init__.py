"""Django-free optimisers of the grid app: arrays in, arrays out."""
