"""Platform services: API clients, parked tasks."""

from datetime import datetime
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from core.errors import NOT_FOUND, DomainError
from core.models import ApiClient, ParkedTask


class UnableToCreateApiClient(DomainError, code="api_client_invalid"): ...


class UnableToSetApiClientScopes(DomainError, code="api_client_scopes_invalid"): ...


def _check_scopes(scopes: list[str], error: type[DomainError]) -> None:
    unknown = sorted(set(scopes) - set(settings.API_SCOPES))
    if unknown:
        raise error(
            f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(settings.API_SCOPES)}.", field="scopes"
        )
    if not scopes:
        raise error("Grant at least one scope.", field="scopes")


@transaction.atomic
def api_client_create(*, name: str, scopes: list[str]) -> tuple[ApiClient, str]:
    """Create a client-credentials application granted `scopes`; return it and its secret (shown once)."""
    name = name.strip()
    if not name:
        raise UnableToCreateApiClient("A client needs a name.", field="name")
    _check_scopes(scopes, UnableToCreateApiClient)
    Application = get_application_model()
    if Application.objects.filter(name=name).exists():
        raise UnableToCreateApiClient(f"A client named '{name}' exists already.", field="name")
    service_account = get_user_model().objects.create(username=f"api-client:{name}"[:150], is_active=True)
    service_account.set_unusable_password()
    service_account.save(update_fields=["password"])
    secret = generate_client_secret()
    application = Application.objects.create(
        name=name,
        user=service_account,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    client = ApiClient.objects.create(application=application, scopes=" ".join(sorted(set(scopes))))
    return client, secret


@transaction.atomic
def api_client_scopes_set(*, client_id: str, scopes: list[str]) -> ApiClient:
    """Grant the client `client_id` exactly `scopes` from its next token on (a token keeps its own scopes)."""
    client = ApiClient.objects.select_for_update().filter(application__client_id=client_id).first()
    if client is None:
        raise UnableToSetApiClientScopes(f"No API client '{client_id}'.", field="client_id", code=NOT_FOUND)
    _check_scopes(scopes, UnableToSetApiClientScopes)
    granted = " ".join(sorted(set(scopes)))
    if client.scopes != granted:
        client.scopes = granted
        client.save(update_fields=["scopes"])
    return client


@transaction.atomic
def parked_task_record(
    *,
    task_id: str,
    task_name: str,
    args: list[Any],
    kwargs: dict[str, Any],
    queue: str,
    deliveries: int,
    now: datetime,
) -> ParkedTask:
    """Record a task taken off its queue after too many deliveries (core/task_deliveries.py)."""
    return ParkedTask.objects.create(
        task_id=task_id,
        task_name=task_name,
        args=args,
        kwargs=kwargs,
        queue=queue,
        deliveries=deliveries - 1,
        parked_at=now,
    )


@transaction.atomic
def parked_tasks_requeue(*, parked_ids: list[int], now: datetime) -> int:
    """Send parked tasks again (new task ids, on their queue) once the cause is fixed; each once."""
    app = current_app
    parked = list(ParkedTask.objects.select_for_update().filter(pk__in=parked_ids, requeued_at__isnull=True))
    for task in parked:
        transaction.on_commit(
            partial(
                app.send_task, task.task_name, args=task.args, kwargs=task.kwargs, queue=task.queue or None
            )
        )
    ParkedTask.objects.filter(pk__in=[task.pk for task in parked]).update(requeued_at=now)
    return len(parked)
