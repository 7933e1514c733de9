"""Template context of the portal: the supplier's name for the page header."""

from django.conf import settings
from django.http import HttpRequest


def supplier(request: HttpRequest) -> dict[str, str]:
    return {"supplier_name": settings.SUPPLIER_NAME}
