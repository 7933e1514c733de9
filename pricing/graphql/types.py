"""GraphQL types of the pricing app."""
