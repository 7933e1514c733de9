"""Merging the apps' root GraphQL types."""

import strawberry
from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition


def merge_root_types(name: str, types: tuple[type, ...]) -> type:
    """Merge Query or Mutation types, skipping those that declare no fields (yet)."""
    with_fields = tuple(t for t in types if get_object_definition(t, strict=True).fields)
    if not with_fields:
        return strawberry.type(type(name, (), {}))
    return merge_types(name, with_fields)
