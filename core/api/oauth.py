"""OAuth2 scope backend: a client may only be granted the scopes recorded on its `ApiClient`."""

from typing import Any

from oauth2_provider.scopes import SettingsScopes


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
