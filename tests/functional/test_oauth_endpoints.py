"""Only the OAuth2 endpoints the API uses are exposed; refresh tokens have an absolute lifetime; expired
tokens are cleared on a schedule."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken, get_application_model

from config.tasks import oauth_tokens_clear
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "portal-secret-for-tests"


@pytest.mark.parametrize(
    "url",
    [
        "/o/device-authorization/",
        "/o/device/",
        "/o/authorize/",
        "/o/applications/",
        "/o/applications/register/",
        "/o/authorized_tokens/",
        "/o/userinfo/",
        "/o/register/",
        "/o/.well-known/openid-configuration",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_unused_oauth_endpoints_are_not_exposed(url, method):
    """RELIABILITY check 19 (grant-type restrictions): `POST /o/device-authorization/` was a 500."""
    response = getattr(Client(), method)(url)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "status"), [("/o/token/", 400), ("/o/revoke_token/", 400), ("/o/introspect/", 401)]
)
def test_the_used_oauth_endpoints_answer(url, status):
    response = Client().post(url, {})

    assert response.status_code in (status, 401, 403)
    assert response.status_code < 500


@pytest.fixture
def refresh_token():
    """A refresh token of a customer's authorization-code application, as the token endpoint issues it."""
    Application = get_application_model()
    app = Application.objects.create(
        name="portal",
        user=UserFactory(username="portal-owner"),
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://portal.example.org/callback",
        client_secret=SECRET,
    )
    user = UserFactory(username="refresh-customer")
    access = AccessToken.objects.create(
        user=user,
        application=app,
        token="access-1",
        scope="billing:read",
        expires=timezone.now() + timedelta(minutes=30),
    )
    return RefreshToken.objects.create(user=user, application=app, token="refresh-1", access_token=access)


def _refresh(token: RefreshToken):
    return Client().post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": "refresh-1",
            "client_id": token.application.client_id,
            "client_secret": SECRET,
        },
    )


def test_a_refresh_token_within_its_lifetime_refreshes(refresh_token):
    response = _refresh(refresh_token)

    assert response.status_code == 200, response.content
    assert "access_token" in response.json()


def test_a_refresh_token_older_than_its_lifetime_is_refused(refresh_token):
    """RELIABILITY check 21 (refresh tokens): a refresh token older than REFRESH_TOKEN_EXPIRE_SECONDS is
    refused even while its access token is still valid."""
    lifetime = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    RefreshToken.objects.filter(pk=refresh_token.pk).update(
        created=timezone.now() - timedelta(seconds=lifetime + 60)
    )

    response = _refresh(refresh_token)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 1


def test_expired_tokens_are_cleared_on_a_schedule(refresh_token):
    """RELIABILITY check 21: `cleartokens` runs from beat and deletes expired tokens."""
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "config.tasks.oauth_tokens_clear" in schedule
    lifetime = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=lifetime + 60))

    oauth_tokens_clear.delay()

    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.exists()
