from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "API clients"

    def ready(self) -> None:
        from auditlog.models import LogEntry
        from celery.signals import task_postrun, task_prerun
        from django.db.models.signals import pre_save

        from core import audit

        # Audit entries written by a Celery task name the task and its id.
        task_prerun.connect(audit.task_started, dispatch_uid="audit-task-started")
        task_postrun.connect(audit.task_finished, dispatch_uid="audit-task-finished")
        pre_save.connect(audit.entry_name_task, sender=LogEntry, dispatch_uid="audit-entry-task")

        from core.metrics import database_gauge_register
        from core.selectors import parked_task_counts

        database_gauge_register(
            "celery_tasks_parked",
            "Tasks taken off their queue after too many deliveries and not sent again, by task",
            label="task",
            read=parked_task_counts,
        )
