"""The customer portal: sign in, see one's own account and bills."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing import selectors


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    customer = selectors.customer_for_user(user=request.user)
    return render(request, "portal/home.html", {"customer": customer})
