"""Admin helpers shared by the apps, and the API clients' admin."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

from core.models import ApiClient, ParkedTask
from core.services import api_client_scopes_set, parked_tasks_requeue

if TYPE_CHECKING:  # generic in django-stubs only; Django's classes take no type arguments at run time
    _Paginator = Paginator[Any]
    _ModelAdmin = admin.ModelAdmin[Model]
else:
    _Paginator = Paginator
    _ModelAdmin = admin.ModelAdmin


def error_text(error: Exception) -> str:
    """What an admin message says of a refused action: a domain error's messages, or the error itself."""
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


class EstimatedCountPaginator(_Paginator):
    """Pages a huge table without COUNT(*): the number of pages is not known, there is always a next one."""

    @cached_property
    def count(self) -> int:
        return 10**9


class ReadOnlyAdmin(_ModelAdmin):
    """Rows that only services write (readings, aggregates, ledgers): staff may look, never change."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ServiceAdmin(_ModelAdmin):
    """An admin whose writes go through the app's services, so staff meet the same rules as the API.

    Subclasses implement `service_save`. The form runs it once in a transaction that is rolled back, so a
    domain error appears on the form, on the field it names, and nothing is written; saving runs it for real.
    """

    def service_save(self, *, request: HttpRequest, obj: Model, data: dict[str, Any], change: bool) -> Model:
        raise NotImplementedError

    def get_form(
        self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any
    ) -> "type[ModelForm[Model]]":
        form_class = super().get_form(request, obj, change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):  # type: ignore[valid-type, misc]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                if self.errors:
                    return cleaned
                try:
                    with transaction.atomic():
                        model_admin.service_save(
                            request=request, obj=self.instance, data=cleaned, change=change
                        )
                        transaction.set_rollback(True)
                except ValidationError as error:
                    fields = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
                    for field, errors in fields.items():
                        self.add_error(field if field in self.fields else None, errors)
                return cleaned

        return ServiceForm

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: Any) -> None:
        saved = self.service_save(request=request, obj=obj, data=form.cleaned_data, change=change)
        obj.pk, obj._state.adding = saved.pk, False


@admin.register(ApiClient)
class ApiClientAdmin(ServiceAdmin):
    """API clients are created by `manage.py api_client_create` (it shows the secret once); staff change
    their scopes here, through `api_client_scopes_set`."""

    list_display = ("application", "scopes", "created_at")
    fields = ("application", "scopes", "created_at")
    readonly_fields = ("application", "created_at")
    search_fields = ("application__name", "application__client_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def service_save(self, *, request: HttpRequest, obj: Model, data: dict[str, Any], change: bool) -> Model:
        assert isinstance(obj, ApiClient)
        return api_client_scopes_set(client_id=obj.application.client_id, scopes=data["scopes"].split())


@admin.register(ParkedTask)
class ParkedTaskAdmin(ReadOnlyAdmin):
    """Tasks taken off their queue after too many deliveries (their worker died on each), newest first."""

    list_display = ("parked_at", "task_name", "task_id", "queue", "deliveries", "requeued_at")
    list_filter = ("task_name", "queue", ("parked_at", admin.DateFieldListFilter))
    search_fields = ("=task_id", "task_name")
    ordering = ("-parked_at", "-id")
    actions = ["send_again"]

    @admin.action(description="Send the selected tasks again (once the cause is fixed)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[ParkedTask]) -> None:
        sent = parked_tasks_requeue(
            parked_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now()
        )
        self.message_user(request, f"{sent} task(s) sent again.", messages.SUCCESS)
