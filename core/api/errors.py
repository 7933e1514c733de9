"""The API's error mapping: domain errors become `BAD_USER_INPUT` with their code and field, not-found
becomes `NOT_FOUND`, the API's own errors pass, and everything else is logged and masked."""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from core.errors import BAD_USER_INPUT, INTERNAL, NOT_FOUND

log = logging.getLogger(__name__)


def api_error(message: str, code: str, **extensions: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def input_error(message: str, *, field: str | None = None) -> GraphQLError:
    """A client mistake in an argument: `BAD_USER_INPUT` naming the argument."""
    return api_error(message, BAD_USER_INPUT, field=field)


class ErrorPolicy(MaskErrors):
    """Keep the API's own errors, map domain errors, mask and log everything else (outside DEBUG)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _error: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            # Syntax, validation and limit errors, or errors the API raised on purpose.
            if original is None and "code" not in (error.extensions or {}):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
            return error
        if isinstance(original, ValidationError):
            messages = [m for ms in _messages_by_field(original).values() for m in ms]
            fields = [f for f in _messages_by_field(original) if f]
            return self._rebuild(
                error,
                "; ".join(messages),
                BAD_USER_INPUT,
                domainCode=getattr(original, "code", None),
                field=fields[0] if fields else None,
            )
        if isinstance(original, ObjectDoesNotExist):
            return self._rebuild(error, str(original) or "Not found.", NOT_FOUND)
        log.error("Unexpected error in GraphQL operation", exc_info=original)
        if settings.DEBUG:
            return self._rebuild(error, error.message, INTERNAL)
        return self._rebuild(error, "Unexpected error.", INTERNAL)

    @staticmethod
    def _rebuild(error: GraphQLError, message: str, code: str, **extensions: object) -> GraphQLError:
        extensions = {k: v for k, v in extensions.items() if v is not None}
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code, **extensions},
        )


def _messages_by_field(error: ValidationError) -> dict[str | None, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [m for e in errs for m in e.messages] for field, errs in error.error_dict.items()}
    return {None: list(error.messages)}
