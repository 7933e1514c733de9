"""Each demo run keeps the logins and API client it printed before, or says clearly what it replaced."""

import base64
import json
import stat

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client
from oauth2_provider.models import get_application_model

from billing.services.demo import DEMO_CLIENT, demo_logins_ensure

pytestmark = pytest.mark.django_db


def _token_status(client_id: str, secret: str) -> int:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/o/token/", {"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    return response.status_code


def test_a_second_run_keeps_the_logins_and_client_it_printed(tmp_path):
    path = tmp_path / "demo.json"

    first = demo_logins_ensure(path=path)
    second = demo_logins_ensure(path=path)

    assert first.replaced == []
    assert second.replaced == []
    assert (first.all_new, second.all_new) == (True, False)
    assert (second.staff_password, second.customer_password) == (
        first.staff_password,
        first.customer_password,
    )
    assert (second.client_id, second.client_secret) == (first.client_id, first.client_secret)
    assert authenticate(username="staff", password=first.staff_password).is_superuser
    assert authenticate(username="customer", password=first.customer_password).customer.account_number == (
        "DEMO-0001"
    )
    assert get_application_model().objects.filter(name=DEMO_CLIENT).count() == 1
    assert _token_status(second.client_id, second.client_secret) == 200
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["client_id"] == first.client_id


def test_without_the_saved_file_the_secrets_are_replaced_and_said_so(tmp_path):
    first = demo_logins_ensure(path=tmp_path / "demo.json")
    (tmp_path / "demo.json").unlink()

    second = demo_logins_ensure(path=tmp_path / "demo.json")

    assert second.replaced == [
        "staff password",
        "customer password",
        "API client (its secret is stored hashed and cannot be shown again)",
    ]
    assert second.staff_password != first.staff_password
    assert authenticate(username="staff", password=first.staff_password) is None
    assert authenticate(username="staff", password=second.staff_password).is_staff
    assert _token_status(first.client_id, first.client_secret) == 401
    assert _token_status(second.client_id, second.client_secret) == 200
    assert get_application_model().objects.filter(name=DEMO_CLIENT).count() == 1


def test_a_changed_password_is_replaced_and_the_rest_kept(tmp_path):
    path = tmp_path / "demo.json"
    first = demo_logins_ensure(path=path)
    staff = authenticate(username="staff", password=first.staff_password)
    staff.set_password("changed-elsewhere")
    staff.save()

    second = demo_logins_ensure(path=path)

    assert second.replaced == ["staff password"]
    assert second.customer_password == first.customer_password
    assert (second.client_id, second.client_secret) == (first.client_id, first.client_secret)


def test_a_new_database_with_the_file_of_an_earlier_one_gets_new_logins_said_to_be_new(tmp_path):
    path = tmp_path / "demo.json"
    first = demo_logins_ensure(path=path)
    assert first.all_new
    # As a fresh database would be: no staff, no customer login, no API client (the file stays).
    get_application_model().objects.all().delete()
    get_user_model().objects.all().delete()

    second = demo_logins_ensure(path=path)

    assert second.all_new
    assert second.replaced == []
    assert second.staff_password != first.staff_password
    assert authenticate(username="staff", password=second.staff_password).is_staff
    assert _token_status(second.client_id, second.client_secret) == 200
