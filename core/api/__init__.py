"""The API's plumbing shared by every app: principals, scope permissions, error mapping, scalars, limits."""
