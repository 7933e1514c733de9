"""Domain errors: a rule refused an operation (its GraphQL mapping is in core.api.errors).

A `DomainError` is a Django `ValidationError` with a stable `code` (and optionally the input field it is
about), so mutations declared with `handle_django_errors=True` return it as `OperationInfo.messages
{ kind code field message }` and change nothing; in queries it becomes a GraphQL error with
`extensions.code = "BAD_USER_INPUT"`. The codes below are the API's `extensions.code` values.

"Not found" has one code everywhere: `NOT_FOUND`, as a domain error's code (an `OperationInfo` message of a
mutation) and as the `extensions.code` of a query's error (an object that does not exist and one the caller
may not see are both absent).
"""

from django.core.exceptions import ValidationError

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
INTERNAL = "INTERNAL_SERVER_ERROR"


class DomainError(ValidationError):
    """A domain rule refused an operation; `field` names the offending input.

    A subclass names its stable code in its header:
    `class InvoiceNotDraft(DomainError, code="invoice_not_draft"): ...`.
    """

    code = "domain_error"

    def __init_subclass__(cls, *, code: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        code = code or type(self).code
        if field:
            super().__init__({field: [ValidationError(message, code=code)]})
            self.code = code
        else:
            super().__init__(message, code=code)
        self.field = field


class NotFound(DomainError, code=NOT_FOUND):
    """A lookup by identifier found nothing (or nothing the caller may see)."""
