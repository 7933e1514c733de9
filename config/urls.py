from django.contrib import admin
from django.urls import include, path
from oauth2_provider import urls as oauth2_urls

from billing.urls import plain_api_urlpatterns
from config.health import healthz
from config.schema import schema
from core.api.views import ApiGraphQLView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Token, revocation and introspection endpoints only; clients are created by staff, not self-served.
    path("o/", include((oauth2_urls.base_urlpatterns, "oauth2_provider"), namespace="oauth2_provider")),
    path("graphql/", ApiGraphQLView.as_view(schema=schema, allow_queries_via_get=False), name="graphql"),
    path("healthz", healthz, name="healthz"),
    path("", include("django_prometheus.urls")),
    path("", include(plain_api_urlpatterns)),
    path("", include("billing.urls")),
]
