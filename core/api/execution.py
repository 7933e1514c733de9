"""The GraphQL execution context: graphql-core's executor with a short path for plain leaf fields.

graphql-core resolves every field the same way: it builds a resolve-info object, runs the resolver through
the middleware chain, checks for awaitables and completes the value by its type. For a leaf field that just
reads an attribute (an invoice line's `amount`, an invoice's `currency`) all of that ends in reading the
attribute and the scalar's or enum's output coercion; a page of 100 invoices with 10 lines has 8,000 such
fields, and the machinery costs more than the rest of the request.

`ExecutionContext.execute_field` takes the short path for exactly those fields, with no arguments, a scalar
or enum type, no field extension (so no permission check) and:
- on a `strawberry.type`: no resolver and the schema's default resolver `getattr`; the value is
  `getattr(source, name)`;
- on a `strawberry_django.type`: no resolver, a concrete model field (not a file) whose value is already
  loaded on the instance, which is what strawberry-django itself reads in that case; a deferred field takes
  the full path, which loads it.
It coerces the value as graphql-core would. Anything else, and any value the short path cannot complete
(null for a non-null field, a missing attribute, a value that fails to coerce), goes through graphql-core's
own `execute_field`, so errors, paths and messages are graphql-core's. The short path is only taken when
every schema extension that hooks field resolution is one known to act on querysets alone (the
strawberry-django optimizer), which a leaf field never returns, and never for async fields.
"""

import enum
from typing import Any, Final, NamedTuple
from weakref import WeakKeyDictionary

from django.db.models.fields.files import FileDescriptor
from django.db.models.query_utils import DeferredAttribute
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import Executor
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import DjangoOptimizerExtension

from core.api.extensions import suggestions_allowed

# Schema extensions whose `resolve` hook leaves a leaf value as it is.
LEAF_TRANSPARENT_EXTENSIONS: tuple[type, ...] = (DjangoOptimizerExtension,)

_STRAWBERRY_DEFINITION = "strawberry-definition"


class _Missing(enum.Enum):
    MISSING = enum.auto()


_MISSING: Final = _Missing.MISSING  # a sentinel the type checker can tell apart from a plan


class LeafPlan(NamedTuple):
    loaded_model_field: bool  # read `source.__dict__[name]` (a loaded model field), else getattr()
    name: str
    coerce: Any
    nullable: bool


# Per schema: (type name, field name) -> its plan, or None for the full path.
_plans: "WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], LeafPlan | None]]" = WeakKeyDictionary()


def leaf_plan(parent_type: GraphQLObjectType, field_name: str, source: Any) -> LeafPlan | None:
    """How to resolve `parent_type.field_name` on the short path, or None when it takes the full one.
    `source` is the first object the field is resolved on: its class tells what a model attribute is."""
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args or not getattr(field_def.resolve, "_is_default", False):
        return None
    named = get_nullable_type(field_def.type)
    if not is_leaf_type(named):
        return None
    nullable = not is_non_null_type(field_def.type)
    definition = (field_def.extensions or {}).get(_STRAWBERRY_DEFINITION)
    if type(definition) is StrawberryField:
        if definition.is_basic_field and definition.default_resolver is getattr:
            return LeafPlan(False, definition.python_name, named.coerce_output_value, nullable)
        return None
    if type(definition) is StrawberryDjangoField:
        if definition.base_resolver or definition.extensions or definition.is_async:
            return None
        attribute = getattr(type(source), definition.django_name or definition.python_name, None)
        if isinstance(attribute, DeferredAttribute) and not isinstance(attribute, FileDescriptor):
            return LeafPlan(True, attribute.field.attname, named.coerce_output_value, nullable)
    return None


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> list[GraphQLError] | Executor[Any]:
        """Coerce the variables without "Did you mean" hints unless the caller may see them (errors only
        look the caller up)."""
        kwargs["hide_suggestions"] = True
        built = super().build(schema, document, root_value, context_value, *args, **kwargs)
        request = getattr(context_value, "request", None)
        if isinstance(built, list) and request is not None and suggestions_allowed(request):
            kwargs["hide_suggestions"] = False
            built = super().build(schema, document, root_value, context_value, *args, **kwargs)
        return built

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middlewares = self.middleware_manager.middlewares if self.middleware_manager else ()
        self._short_path = all(isinstance(m, LEAF_TRANSPARENT_EXTENSIONS) for m in middlewares)
        self._plans = _plans.setdefault(self.schema, {})

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        if self._short_path:
            node = field_details_list[0].node
            key = (parent_type.name, node.name.value)
            plan = self._plans.get(key, _MISSING)
            if plan is _MISSING:
                plan = self._plans[key] = leaf_plan(parent_type, node.name.value, source)
            if plan is not None and not node.arguments:
                if plan.loaded_model_field:
                    value = getattr(source, "__dict__", {}).get(plan.name, _MISSING)
                else:
                    value = getattr(source, plan.name, _MISSING)
                if value is None:
                    if plan.nullable:
                        return None
                elif value is not _MISSING and not isinstance(value, Exception):
                    try:
                        coerced = plan.coerce(value)
                    except Exception:  # the full path reports it as graphql-core does
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
