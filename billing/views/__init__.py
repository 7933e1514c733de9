"""Views of the billing app: `portal` (the customer portal) and `plain_api` (a plain JSON invoice listing,
the benchmark baseline of the GraphQL listing)."""
