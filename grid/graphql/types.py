"""GraphQL types of the grid app."""
