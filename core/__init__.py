"""The shared kernel: domain errors and their GraphQL mapping, the API's auth, permissions and scalars,
admin and audit helpers, period checks. It imports no app; every app may import it."""
