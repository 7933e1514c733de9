"""GraphQL inputs of the pricing app."""
