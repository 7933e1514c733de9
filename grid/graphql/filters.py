"""GraphQL filters of the grid app."""
