from django.contrib.auth import views as auth_views
from django.urls import path

from billing.views import documents, plain_api
from billing.views import portal as views

app_name = "portal"

# Included at the root by config/urls.py without the namespace.
plain_api_urlpatterns = [
    path("api/plain/invoices", plain_api.invoices_plain, name="billing-plain-invoices"),
    path("api/invoices/pdf/<str:token>", documents.invoice_pdf_signed, name="billing-invoice-pdf-signed"),
]

urlpatterns = [
    path("", views.portal_home, name="home"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("bills.csv", views.bills_csv, name="bills-csv"),
    path("consumption.csv", views.consumption_csv, name="consumption-csv"),
    path("compare/", views.tariff_compare, name="compare"),
    path("bills/<str:number>.pdf", views.bill_pdf, name="bill-pdf"),
    path("bills/<str:number>/", views.bill_detail, name="bill"),
]
