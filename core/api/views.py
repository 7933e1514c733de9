"""The GraphQL endpoint.

Bearer-token requests are exempt from CSRF (they carry no cookie authority); session requests are checked
like any form post. GraphiQL is served to staff and in development only.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotFound
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from core.api.auth import Kind, bearer_token_present, get_principal


def _no_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    return HttpResponse()


@method_decorator(csrf_exempt, name="dispatch")
class ApiGraphQLView(GraphQLView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if (
            request.method == "POST"
            and not bearer_token_present(request)
            and settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            rejection = CsrfViewMiddleware(_no_view).process_view(request, _no_view, (), {})
            if rejection is not None:
                return rejection
        return super().dispatch(request, *args, **kwargs)

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        if not (settings.DEBUG or get_principal(request).kind == Kind.STAFF):
            return HttpResponseNotFound("GraphiQL is available to staff only; sign in at /admin/ first.")
        return super().render_graphql_ide(request)
