"""Cross-app API plumbing: principals, scope permissions, error mapping, scalars, limits.

This package imports no domain app; the apps import it.
"""
