"""Schema extensions every operation passes through: limits, the introspection gate, error policy."""

from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry_django.optimizer import DjangoOptimizerExtension

from core.api.auth import Kind, get_principal
from core.api.errors import ErrorPolicy


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


def _ignore_introspection(context: IgnoreContext) -> bool:
    return context.field_name.startswith("__")


def schema_extensions() -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        lambda: QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH, should_ignore=_ignore_introspection),
        lambda: MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        IntrospectionGate,
        DjangoOptimizerExtension,
        ErrorPolicy,
    ]
