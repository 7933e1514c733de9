"""OAuth2 policy: a client may only be granted the scopes recorded on its `ApiClient` (scope backend);
a refresh token is refused once it is older than REFRESH_TOKEN_EXPIRE_SECONDS (validator)."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes
from oauth2_provider.settings import oauth2_settings


class GrantedScopes(SettingsScopes):
    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        from core.models import ApiClient  # models are not ready when the backend is imported

        all_scopes = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:
            return []
        granted = ApiClient.objects.filter(application=application).values_list("scopes", flat=True).first()
        allowed = set((granted or "").split())
        return [scope for scope in all_scopes if scope in allowed]

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return self.get_available_scopes(application, request, *args, **kwargs)


class ApiOAuth2Validator(OAuth2Validator):
    """django-oauth-toolkit's validator, plus an absolute refresh-token lifetime.

    The toolkit only measures a refresh token's lifetime from its access token's expiry, which slides with
    every refresh; here a refresh token older than REFRESH_TOKEN_EXPIRE_SECONDS since it was issued is
    refused (`invalid_grant`), and `cleartokens` (scheduled) deletes it.
    """

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        lifetime = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)
        created: datetime = request.refresh_token_instance.created
        return created + lifetime > timezone.now()
