"""Billing's plain JSON endpoints (benchmark comparison only); the project includes them at the root."""

from django.urls import path

from billing import views_api

urlpatterns = [
    path("api/plain/invoices", views_api.invoices_plain, name="billing-plain-invoices"),
]
