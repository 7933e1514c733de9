"""Merging the apps' root GraphQL types."""

import strawberry
from strawberry.tools import merge_types


def merge_root_types(name: str, types: tuple[type, ...]) -> type:
    """Merge Query or Mutation types, skipping those that declare no fields (yet)."""
    with_fields = tuple(t for t in types if t.__strawberry_definition__.fields)
    if not with_fields:
        return strawberry.type(type(name, (), {}))
    return merge_types(name, with_fields)
