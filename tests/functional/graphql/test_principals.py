"""Who a caller acts as and which scopes it holds: staff sessions by their permissions, tokens issued to a
person as that person, client-credentials tokens as the application; pricing breakdowns are not customer
data."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from oauth2_provider.models import AccessToken, get_application_model

from billing.models import Agreement, Customer
from core.api.auth import scope_permission
from core.models import SCOPE_PERMISSIONS
from metering.services.meters import meter_point_create
from pricing.models import Tariff
from tests.conftest import error_codes
from tests.factories import StaffFactory
from tests.functional.billing.test_portal import make_invoice
from tests.integration.pricing.test_publication import make_dynamic_tariff, make_prices, publish

pytestmark = pytest.mark.django_db

CUSTOMER_CREATE = (
    'mutation { customerCreate(input: {accountNumber: "ACC-NEW", name: "New"}) '
    "{ ... on Customer { accountNumber } } }"
)
CUSTOMER = "query($n: String!) { customer(accountNumber: $n) { accountNumber name } }"


def _permission(scope: str) -> Permission:
    return Permission.objects.get(content_type__app_label="core", codename=SCOPE_PERMISSIONS[scope])


def _user_token(user, *scopes: str) -> AccessToken:
    """A token as the authorization-code flow issues it: to a person, through a public portal app."""
    Application = get_application_model()
    app = Application.objects.create(
        name=f"portal-{user.username}",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://portal.example.org/callback",
    )
    return AccessToken.objects.create(
        user=user,
        application=app,
        token=f"user-token-{user.pk}-{'-'.join(scopes)}",
        scope=" ".join(scopes),
        expires=timezone.now() + timedelta(hours=1),
    )


# --- 13: staff sessions ------------------------------------------------------------------------------


def test_every_api_scope_has_a_permission():
    assert set(SCOPE_PERMISSIONS) == set(__import__("django.conf").conf.settings.API_SCOPES)
    for scope in SCOPE_PERMISSIONS:
        app_label, codename = scope_permission(scope).split(".")
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()


def test_a_staff_session_without_permissions_gets_no_scope(gql_as, customer_a):
    """RELIABILITY check 16 (scope enforcement): a staff user with no Django permissions cannot create a
    customer or read one through a session."""
    bare_staff = StaffFactory(username="bare-staff")
    gql = gql_as(bare_staff)

    created = gql(CUSTOMER_CREATE)
    read = gql(CUSTOMER, {"n": "ACC-A"})

    assert error_codes(created) == ["FORBIDDEN"]
    assert error_codes(read) == ["FORBIDDEN"]
    assert not Customer.objects.filter(account_number="ACC-NEW").exists()


def test_a_staff_session_gets_the_scopes_of_its_groups_permissions_only(gql_as, customer_a):
    """RELIABILITY check 16: session scopes come from permissions (via a group), checked per operation."""
    writers = Group.objects.create(name="billing writers")
    writers.permissions.add(_permission("billing:write"))
    staff = StaffFactory(username="billing-writer")
    staff.groups.add(writers)
    gql = gql_as(staff)

    created = gql(CUSTOMER_CREATE)
    read = gql(CUSTOMER, {"n": "ACC-A"})

    assert created == {"data": {"customerCreate": {"accountNumber": "ACC-NEW"}}}
    assert error_codes(read) == ["FORBIDDEN"]


def test_a_superuser_session_has_every_scope(gql_as, staff, customer_a):
    result = gql_as(staff)(CUSTOMER, {"n": "ACC-A"})

    assert result == {"data": {"customer": {"accountNumber": "ACC-A", "name": "Alice Able"}}}


# --- 14: tokens with a user --------------------------------------------------------------------------


def test_a_token_issued_to_a_customer_acts_as_that_customer(gql_as, customer_a, customer_b):
    """RELIABILITY checks 9 (object-level authorization) and 18 (client-credentials identity): an
    authorization-code token of customer A sees A's data only and no machine operation."""
    gql = gql_as(_user_token(customer_a.user, "billing:read", "billing:write"))

    own = gql(CUSTOMER, {"n": "ACC-A"})
    other = gql(CUSTOMER, {"n": "ACC-B"})
    created = gql(CUSTOMER_CREATE)

    assert own == {"data": {"customer": {"accountNumber": "ACC-A", "name": "Alice Able"}}}
    assert other["data"] == {"customer": None}
    assert error_codes(other) == ["NOT_FOUND"]
    assert error_codes(created) == ["FORBIDDEN"]
    assert not Customer.objects.filter(account_number="ACC-NEW").exists()


def test_a_customer_token_lists_only_that_customers_invoices(gql_as, make_token, customer_a, customer_b):
    """RELIABILITY check 9: an authorization-code token of customer A is not a machine client (which
    would list every invoice)."""
    make_invoice(customer_a, "INV-000301")
    make_invoice(customer_b, "INV-000302")
    query = "{ invoices { totalCount edges { node { number accountNumber } } } }"

    as_customer = gql_as(_user_token(customer_a.user, "billing:read"))(query)
    as_machine = gql_as(make_token("billing:read"))(query)

    assert as_customer["data"]["invoices"] == {
        "totalCount": 1,
        "edges": [{"node": {"number": "INV-000301", "accountNumber": "ACC-A"}}],
    }
    assert as_machine["data"]["invoices"]["totalCount"] == 2


def test_a_customer_token_still_needs_the_scope(gql_as, customer_a):
    result = gql_as(_user_token(customer_a.user, "pricing:read"))(CUSTOMER, {"n": "ACC-A"})

    assert error_codes(result) == ["FORBIDDEN"]


def test_a_token_issued_to_a_staff_user_is_bounded_by_their_permissions(gql_as, customer_a):
    staff = StaffFactory(username="reader")
    staff.user_permissions.add(_permission("billing:read"))
    gql = gql_as(_user_token(staff, "billing:read", "billing:write"))

    read = gql(CUSTOMER, {"n": "ACC-A"})
    created = gql(CUSTOMER_CREATE)

    assert read["data"]["customer"]["accountNumber"] == "ACC-A"
    assert error_codes(created) == ["FORBIDDEN"]


def test_a_client_credentials_token_acts_as_the_application(gql_as, make_token, customer_a, customer_b):
    gql = gql_as(make_token("billing:read"))

    result = gql(CUSTOMER, {"n": "ACC-B"})

    assert result == {"data": {"customer": {"accountNumber": "ACC-B", "name": "Bob Baker"}}}


def test_a_token_of_a_deactivated_user_is_refused(gql_as, customer_a):
    token = _user_token(customer_a.user, "billing:read")
    customer_a.user.is_active = False
    customer_a.user.save()

    result = gql_as(token)(CUSTOMER, {"n": "ACC-A"})

    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["data"] == {"customer": None}


# --- 12: published rates -----------------------------------------------------------------------------

PUBLISHED_RATES = """query { publishedRates(tariffCode: "DYN-1", day: "2024-01-15") {
  ratePerKwh breakdown { rule perKwh note } } }"""
MY_RATES = (
    'query { me { publishedRates(day: "2024-01-15") { tariffCode intervalStart ratePerKwh revision } } }'
)


@pytest.fixture
def published_dynamic_day(customer_a):
    make_dynamic_tariff()
    make_prices()
    publish()
    point = meter_point_create(identifier="MP-RATES", timezone="Europe/Berlin")
    Agreement.objects.create(
        customer=customer_a,
        meter_point=point,
        import_tariff=Tariff.objects.get(code="DYN-1"),
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("customer", ["customer_a", "customer_b"])
def test_customers_cannot_read_the_pricing_breakdown(customer, published_dynamic_day, gql_as, request):
    """RELIABILITY check 10 (field-level authorization): wholesale price, multiplier and margin are not
    customer data, not even of the customer's own tariff."""
    user = request.getfixturevalue(customer).user

    result = gql_as(user)(PUBLISHED_RATES)

    assert error_codes(result) == ["FORBIDDEN"]
    assert result["data"] is None


def test_a_customer_reads_their_own_rates_without_breakdown(published_dynamic_day, gql_as, customer_a):
    result = gql_as(customer_a.user)(MY_RATES)

    rates = result["data"]["me"]["publishedRates"]
    assert len(rates) == 48
    assert rates[0] == {
        "tariffCode": "DYN-1",
        "intervalStart": "2024-01-14T23:00:00+00:00",
        "ratePerKwh": "0.170000",
        "revision": 1,
    }


def test_a_customer_sees_no_rates_of_tariffs_they_are_not_on(published_dynamic_day, gql_as, customer_b):
    result = gql_as(customer_b.user)(MY_RATES)

    assert result == {"data": {"me": {"publishedRates": []}}}


def test_customer_rates_have_no_breakdown_field(gql_as, staff):
    result = gql_as(staff)('{ __type(name: "CustomerRate") { fields { name } } }')

    names = {f["name"] for f in result["data"]["__type"]["fields"]}
    assert "breakdown" not in names
    assert names == {"tariffCode", "intervalStart", "intervalEnd", "ratePerKwh", "revision"}


def test_api_clients_with_pricing_read_still_get_the_breakdown(published_dynamic_day, gql_as, make_token):
    result = gql_as(make_token("pricing:read"))(PUBLISHED_RATES)

    assert result["data"]["publishedRates"][0]["breakdown"][0]["rule"] == "market"
