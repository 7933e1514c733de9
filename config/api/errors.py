"""Domain errors and their mapping onto GraphQL.

A `DomainError` is a Django `ValidationError` with a stable `code` (and optionally the input field it is
about), so mutations declared with `handle_django_errors=True` return it as `OperationInfo.messages
{ kind code field message }` and change nothing. In queries, `ErrorPolicy` maps it to a GraphQL error with
`extensions.code = "BAD_USER_INPUT"`; any exception that is not part of the API is logged and masked.
"""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

log = logging.getLogger(__name__)

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
INTERNAL = "INTERNAL_SERVER_ERROR"


class DomainError(ValidationError):
    """A domain rule refused an operation. Subclasses set `code`; `field` names the offending input."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        code = code or type(self).code
        if field:
            super().__init__({field: [ValidationError(message, code=code)]})
            self.code = code
        else:
            super().__init__(message, code=code)
        self.field = field


def api_error(message: str, code: str, **extensions: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


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
