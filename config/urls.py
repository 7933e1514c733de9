from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from oauth2_provider import views as oauth2_views

from billing.urls import plain_api_urlpatterns
from config.health import healthz
from config.schema import schema
from core.api.views import ApiGraphQLView

# The OAuth2 endpoints the API uses (README, docs/API.md): token, revocation, introspection. No authorize,
# device, registration or management views: clients are created by staff, not self-served.
oauth2_urlpatterns = [
    path("token/", oauth2_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth2_views.IntrospectTokenView.as_view(), name="introspect"),
]

# A branded admin: the supplier's name (SUPPLIER_NAME) in the header, the page titles and the index.
admin.site.site_header = f"{settings.SUPPLIER_NAME} operations"
admin.site.site_title = f"{settings.SUPPLIER_NAME} admin"
admin.site.index_title = "Metering, pricing, billing and grid"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include((oauth2_urlpatterns, "oauth2_provider"), namespace="oauth2_provider")),
    path("graphql/", ApiGraphQLView.as_view(schema=schema, allow_queries_via_get=False), name="graphql"),
    path("healthz", healthz, name="healthz"),
    path("", include("django_prometheus.urls")),
    path("", include(plain_api_urlpatterns)),
    path("", include("billing.urls")),
]
