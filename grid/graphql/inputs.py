"""GraphQL inputs of the grid app."""
