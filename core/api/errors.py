"""The API's error mapping: domain errors become `BAD_USER_INPUT` with their code and field, not-found
(`ObjectDoesNotExist` or a domain error with the code `NOT_FOUND`) becomes `NOT_FOUND`, the API's own
errors pass, and everything else is logged and masked."""

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from graphql import BREAK, ArgumentNode, DocumentNode, GraphQLError, Node, ObjectFieldNode, Visitor, visit
from strawberry.extensions import MaskErrors
from strawberry.utils.str_converters import to_camel_case

from core.errors import BAD_USER_INPUT, INTERNAL, NOT_FOUND

log = logging.getLogger(__name__)

# What a scalar's parser raises on a bad value (ValueError, a Decimal or overflow error, a wrong type).
CLIENT_INPUT_ERRORS = (ValueError, TypeError, ArithmeticError)
_VARIABLE_IN_MESSAGE = re.compile(r"Variable '(\$\w+)'")


def api_error(message: str, code: str, **extensions: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def api_field_name(field: str | None) -> str | None:
    """The API's name of a service's field (`tariff_code` → `tariffCode`); document paths stay as they are."""
    if field is None or field.startswith("document"):
        return field
    return to_camel_case(field)


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
            if "code" not in (error.extensions or {}):
                if original is None:
                    error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
                else:
                    # graphql-core's wrapper of a variable that failed coercion ("Variable '$x' has
                    # invalid value …"): the client's input.
                    variable = _VARIABLE_IN_MESSAGE.match(error.message)
                    extra = {"argument": variable.group(1)} if variable else {}
                    error.extensions = {**(error.extensions or {}), "code": BAD_USER_INPUT, **extra}
            return error
        if error.path is None and isinstance(original, CLIENT_INPUT_ERRORS):
            # Raised while coercing a literal or a variable, before any resolver ran (a scalar refusing
            # "NaN", a malformed DateTime): the client's input, reported as such and not logged.
            argument = self._argument_of(error)
            message = f"Invalid value for '{argument}': {error.message}" if argument else error.message
            return self._rebuild(error, message, BAD_USER_INPUT, argument=argument)
        if isinstance(original, ValidationError):
            messages = [m for ms in _messages_by_field(original).values() for m in ms]
            fields = [f for f in _messages_by_field(original) if f]
            domain_code = _domain_code(original)
            return self._rebuild(
                error,
                "; ".join(messages),
                NOT_FOUND if domain_code == NOT_FOUND else BAD_USER_INPUT,
                domainCode=domain_code,
                field=fields[0] if fields else None,
            )
        if isinstance(original, ObjectDoesNotExist):
            return self._rebuild(error, str(original) or "Not found.", NOT_FOUND)
        log.error("Unexpected error in GraphQL operation", exc_info=original)
        if settings.DEBUG:
            return self._rebuild(error, error.message, INTERNAL)
        return self._rebuild(error, "Unexpected error.", INTERNAL)

    def _argument_of(self, error: GraphQLError) -> str | None:
        """The argument (and input fields, dotted) whose literal value the error is about, if any."""
        document = getattr(self.execution_context, "graphql_document", None)
        if document is None or not error.nodes:
            return None
        return argument_path(document, error.nodes[0])

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


def argument_path(document: DocumentNode, target: Node) -> str | None:
    """`input.readings.kwh` for a value node inside `(input: {readings: [{kwh: …}]})`, else None."""
    found: list[str] = []

    class Finder(Visitor):
        def enter(self, node: Node, _key: Any, parent: Any, _path: Any, ancestors: list[Any]) -> Any:
            if node is not target:
                return None
            chain = [*ancestors, parent]
            names = [a.name.value for a in chain if isinstance(a, (ArgumentNode, ObjectFieldNode))]
            if names:
                found.append(".".join(names))
            return BREAK

    visit(document, Finder())
    return found[0] if found else None


def _domain_code(error: ValidationError) -> str | None:
    """The code of a domain error (a field's error carries it when the error names a field)."""
    code = getattr(error, "code", None)
    if code is None and hasattr(error, "error_dict"):
        codes = {getattr(e, "code", None) for errs in error.error_dict.values() for e in errs}
        code = codes.pop() if len(codes) == 1 else None
    return code


def not_found(message: str, *, field: str | None = None) -> GraphQLError:
    """A lookup found nothing the caller may see: `NOT_FOUND`, the one code for it everywhere."""
    return api_error(message, NOT_FOUND, field=field)


def _messages_by_field(error: ValidationError) -> dict[str | None, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [m for e in errs for m in e.messages] for field, errs in error.error_dict.items()}
    return {None: list(error.messages)}
