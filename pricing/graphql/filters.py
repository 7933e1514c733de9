"""GraphQL filters of the pricing app."""
