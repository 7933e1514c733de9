"""Audit entries name the right actor (person or OAuth application) and a non-spoofable address."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from billing.models import Customer
from billing.services.customers import customer_create

pytestmark = pytest.mark.django_db

CREATE = 'mutation { customerCreate(input: {accountNumber: "AUD-1", name: "Audited"}) { __typename } }'


def _entries(model):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)).order_by("pk")


def test_an_api_client_change_is_attributed_to_its_application(gql_as, make_token):
    token = make_token("billing:write")

    gql_as(token)(CREATE, headers={"X-Forwarded-For": "203.0.113.66"}, REMOTE_ADDR="198.51.100.7")

    [entry] = _entries(Customer)
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == token.application.user
    assert entry.actor.username == f"api-client:{token.application.name}"
    assert entry.remote_addr == "198.51.100.7"  # the forwarded header is not trusted by default


def test_a_trusted_proxy_address_is_taken_from_the_forwarded_header(gql_as, make_token, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    gql_as(make_token("billing:write"))(
        CREATE, headers={"X-Forwarded-For": "203.0.113.66, 192.0.2.1"}, REMOTE_ADDR="10.0.0.2"
    )

    assert _entries(Customer).get().remote_addr == "192.0.2.1"


def test_a_staff_change_in_admin_is_attributed_to_the_staff_member(client, staff, customer_a):
    client.force_login(staff)

    response = client.post(
        f"/admin/billing/customer/{customer_a.pk}/change/",
        {
            "account_number": "ACC-A",
            "name": "Alice Renamed",
            "email": "a@example.org",
            "address": "",
            "user": customer_a.user_id,
        },
    )

    assert response.status_code == 302
    update = _entries(Customer).filter(action=LogEntry.Action.UPDATE).get()
    assert update.actor == staff
    assert update.changes_dict["name"] == ["Alice Able", "Alice Renamed"]


def test_a_change_without_a_request_has_no_actor():
    customer_create(account_number="SYS-1", name="System")

    assert _entries(Customer).get().actor is None
