"""The GraphQL endpoint.

Bearer-token requests are exempt from CSRF (they carry no cookie authority); session requests are checked
like any form post. A body over GRAPHQL_MAX_BODY_BYTES is refused with 413 before anything parses it;
a valid token carrying `metering:write` may send up to GRAPHQL_MAX_INGEST_BODY_BYTES (interval blocks of a
few hundred thousand readings), checked from the Authorization header before the body is parsed.
GraphiQL is served to staff and in development only.
"""

import logging
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotFound, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from core.api.auth import Kind, bearer_token_present, get_principal
from core.errors import INTERNAL

log = logging.getLogger(__name__)
INGEST_SCOPE = "metering:write"


def body_limit(request: HttpRequest) -> int:
    """The body cap of this request: larger for a token that may ingest readings."""
    if bearer_token_present(request):
        principal = get_principal(request)
        if principal.kind != Kind.INVALID_TOKEN and INGEST_SCOPE in principal.scopes:
            return int(settings.GRAPHQL_MAX_INGEST_BODY_BYTES)
    return int(settings.GRAPHQL_MAX_BODY_BYTES)


def body_too_large(request: HttpRequest) -> bool:
    """Whether the request body exceeds the cap, judged by Content-Length when sent, else by reading it
    (Django bounds that read by DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    limit = settings.GRAPHQL_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared:
        return declared > limit and declared > body_limit(request)
    return request.method == "POST" and len(request.body) > limit and len(request.body) > body_limit(request)


def _no_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    return HttpResponse()


@method_decorator(csrf_exempt, name="dispatch")
class ApiGraphQLView(GraphQLView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if body_too_large(request):
            limit = body_limit(request)
            return JsonResponse(
                {
                    "errors": [
                        {
                            "message": f"The request body is larger than {limit // 1024} KB.",
                            "extensions": {"code": "REQUEST_TOO_LARGE", "maxBytes": limit},
                        }
                    ]
                },
                status=413,
            )
        if (
            request.method == "POST"
            and not bearer_token_present(request)
            and settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            rejection = CsrfViewMiddleware(_no_view).process_view(request, _no_view, (), {})
            if rejection is not None:
                return rejection
        return super().dispatch(request, *args, **kwargs)

    def process_result(self, request: HttpRequest, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Last line of error masking: an error that reached the response without a `code` escaped the
        error policy (strawberry returns exceptions raised outside execution as they are): mask it."""
        response = super().process_result(request, result)
        # strawberry types the errors as `object`: they are formatted GraphQL errors (dicts).
        errors = cast(list[dict[str, Any]], response.get("errors") or [])
        for index, error in enumerate(errors):
            if not (error.get("extensions") or {}).get("code"):
                log.error("Unmasked GraphQL error: %s", error.get("message"))
                errors[index] = {"message": "Unexpected error.", "extensions": {"code": INTERNAL}}
        return response

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        if not (settings.DEBUG or get_principal(request).kind == Kind.STAFF):
            return HttpResponseNotFound("GraphiQL is available to staff only; sign in at /admin/ first.")
        return super().render_graphql_ide(request)
