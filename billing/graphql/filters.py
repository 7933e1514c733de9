"""GraphQL filters of the billing app."""
