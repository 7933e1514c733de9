"""Schema extensions every operation passes through: limits, the introspection and suggestion gates,
input checks that run before any resolver, error policy."""

import base64
import binascii
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValidationRule,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    validate,
    visit,
)
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry_django.optimizer import DjangoOptimizerExtension

from core.api.auth import Kind, bearer_token_present, get_principal
from core.api.errors import ErrorPolicy
from core.errors import BAD_USER_INPUT


def introspection_allowed(request: HttpRequest) -> bool:
    if settings.DEBUG:
        return True
    return get_principal(request).kind == Kind.STAFF


class IntrospectionGate(SchemaExtension):
    """Introspection (`__schema`, `__type`) for staff sessions and in development only.

    The check runs inside validation and looks up the caller only when the query introspects, so other
    queries pay nothing for it.
    """

    def on_operation(self) -> Iterator[None]:
        request = self.execution_context.context.request

        class NoIntrospectionUnlessAllowed(ValidationRule):
            def enter_field(self, node: FieldNode, *_args: Any) -> None:
                if node.name.value in ("__schema", "__type") and not introspection_allowed(request):
                    self.report_error(
                        GraphQLError(
                            "GraphQL introspection is available to staff only.",
                            node,
                            extensions={"code": "FORBIDDEN"},
                        )
                    )

        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            NoIntrospectionUnlessAllowed,
        )
        yield


def suggestions_allowed(request: HttpRequest) -> bool:
    """ "Did you mean …" hints in errors: in development and for staff sessions, never for API clients or
    anonymous callers (they would map the schema that introspection hides from them)."""
    if settings.DEBUG:
        return True
    return not bearer_token_present(request) and get_principal(request).kind == Kind.STAFF


class SuggestionGate(SchemaExtension):
    """Validate the document with graphql-core's `hide_suggestions` unless `suggestions_allowed`.

    Strawberry validates without that option; running the same rules here first (the schema's extensions
    have added theirs by now) leaves it nothing to do. The caller is only looked up when the document has
    errors, so valid queries and queries rejected for a bearer token pay nothing for it.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            rules = (*context.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule)
            schema = context.schema._schema
            try:
                errors = validate(schema, context.graphql_document, rules, hide_suggestions=True)
                if errors and suggestions_allowed(context.context.request):
                    errors = validate(schema, context.graphql_document, rules)
            except (ValueError, RecursionError):
                # A rule choked on the document itself (e.g. the depth limiter reading an integer literal
                # of thousands of digits): the client's document, refused.
                errors = [
                    GraphQLError(
                        "The document has a value too large to process.",
                        extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                    )
                ]
            context.pre_execution_errors = errors
        yield


# --- input checks before execution ---------------------------------------------------------------------

PAGE_SIZE_ARGUMENTS = ("first", "last")
CURSOR_ARGUMENTS = ("after", "before")
_CURSOR_PREFIX = "arrayconnection:"
_MAX_CURSOR_LENGTH = 64


def _is_connection(field_type: Any) -> bool:
    named = get_named_type(field_type)
    return isinstance(named, GraphQLObjectType) and "edges" in named.fields and "pageInfo" in named.fields


def cursor_is_valid(cursor: str) -> bool:
    """A cursor this API hands out: base64 of `arrayconnection:<offset>`."""
    if len(cursor) > _MAX_CURSOR_LENGTH:
        return False
    try:
        decoded = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError):
        return False
    offset = decoded.removeprefix(_CURSOR_PREFIX)
    return decoded.startswith(_CURSOR_PREFIX) and offset.isascii() and offset.isdigit() and len(offset) < 10


def _literal_nul_paths(node: ValueNode, path: str) -> Iterator[str]:
    if isinstance(node, StringValueNode):
        if "\x00" in node.value:
            yield path
    elif isinstance(node, ObjectValueNode):
        for field in node.fields:
            yield from _literal_nul_paths(field.value, f"{path}.{field.name.value}")
    elif isinstance(node, ListValueNode):
        for index, item in enumerate(node.values):
            yield from _literal_nul_paths(item, f"{path}[{index}]")


def _value_nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _value_nul_paths(key, f"{path} (a key)")
            yield from _value_nul_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        # A flat list (e.g. the hundreds of thousands of values of interval blocks) is checked in one pass;
        # only a list that holds a NUL, or holds containers, is walked item by item.
        if not any(isinstance(item, (dict, list)) for item in value) and "\x00" not in "".join(
            item for item in value if isinstance(item, str)
        ):
            return
        for index, item in enumerate(value):
            yield from _value_nul_paths(item, f"{path}[{index}]")


def _input_error(message: str, node: Any, argument: str) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": BAD_USER_INPUT, "argument": argument})


class _InputChecker(Visitor):
    def __init__(self, type_info: TypeInfo, variables: dict[str, Any], max_page_size: int) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables = variables
        self.max_page_size = max_page_size
        self.errors: list[GraphQLError] = []

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        name = node.name.value
        for path in _literal_nul_paths(node.value, name):
            self.errors.append(
                _input_error(f"'{path}' contains a NUL character, which is not allowed.", node, path)
            )
        field = self.type_info.get_field_def()
        if field is None or not _is_connection(field.type):
            return
        value: object = node.value
        if isinstance(value, VariableNode):
            value = self.variables.get(value.name.value)
        elif hasattr(value, "value"):
            value = value.value
            if name in PAGE_SIZE_ARGUMENTS and isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
        else:
            value = None
        if name in PAGE_SIZE_ARGUMENTS and isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value <= self.max_page_size:
                self.errors.append(
                    _input_error(f"'{name}' must be between 0 and {self.max_page_size}.", node, name)
                )
        elif name in CURSOR_ARGUMENTS and isinstance(value, str) and not cursor_is_valid(value):
            self.errors.append(
                _input_error(f"'{name}' is not a cursor of this list; use a pageInfo cursor.", node, name)
            )


def input_errors(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], *, max_page_size: int
) -> list[GraphQLError]:
    """Client mistakes the schema's types let through but the database or the pagination would choke on:
    NUL characters in strings (PostgreSQL text cannot hold them), page sizes outside 0..max_page_size and
    cursors this API never issued, on every connection field (nested ones too). Each error names its
    argument (`extensions.argument`; `$name` for a variable)."""
    errors = [
        _input_error(f"Variable '{path}' contains a NUL character, which is not allowed.", None, path)
        for name, value in (variables or {}).items()
        for path in _value_nul_paths(value, f"${name}")
    ]
    type_info = TypeInfo(schema)
    checker = _InputChecker(type_info, variables or {}, max_page_size)
    visit(document, TypeInfoVisitor(type_info, checker))
    return errors + checker.errors


class InputGuard(SchemaExtension):
    """Run `input_errors` after validation and before execution; on any, execute nothing."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and not context.result:
            errors = input_errors(
                context.schema._schema,
                context.graphql_document,
                context.variables or {},
                max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE,
            )
            if errors:
                context.result = ExecutionResult(data=None, errors=errors)
        yield


def _ignore_introspection(context: IgnoreContext) -> bool:
    return context.field_name.startswith("__")


def schema_extensions() -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        lambda: QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH, should_ignore=_ignore_introspection),
        lambda: MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        IntrospectionGate,
        SuggestionGate,
        InputGuard,
        DjangoOptimizerExtension,
        ErrorPolicy,
    ]
