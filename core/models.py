from django.db import models

# Staff sessions (and tokens issued to staff users) get an API scope only through the matching permission,
# `config.<codename>`, granted directly or through a group; superusers have them all.
SCOPE_PERMISSIONS: dict[str, str] = {
    f"{app}:{access}": f"api_scope_{app}_{access}"
    for app in ("metering", "forecasting", "pricing", "billing", "grid")
    for access in ("read", "write")
}


class JobStatus(models.TextChoices):
    """The states of a job row a Celery task works through: a bill run, a tariff comparison, a scenario."""

    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


class ApiClient(models.Model):
    """A machine client of the API: an OAuth2 client-credentials application and the scopes granted to it.

    The application's `user` is a service account named after the client; it is the actor that the audit
    trail records for the client's changes (client-credentials tokens carry no user of their own).
    """

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="api_client"
    )
    scopes = models.CharField(max_length=500, help_text="Space-separated scopes this client may be granted.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "config_apiclient"  # created by the config app before the kernel moved to core
        permissions = [(codename, f"API scope {scope}") for scope, codename in SCOPE_PERMISSIONS.items()]

    def __str__(self) -> str:
        return f"{self.application.name} ({self.scopes})"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class ParkedTask(models.Model):
    """A Celery task delivered more than CELERY_TASK_MAX_DELIVERIES times without finishing (its worker
    died on it each time): taken off the queue instead of looping forever, for staff to look at."""

    task_id = models.CharField(max_length=255)
    task_name = models.CharField(max_length=255)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=255, blank=True)
    deliveries = models.PositiveIntegerField()
    parked_at = models.DateTimeField()
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task_id", "parked_at"], name="parked_task_once")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"
