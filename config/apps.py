from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "API clients and platform"

    def ready(self) -> None:
        from config.metrics import database_gauge_register
        from config.selectors import parked_task_counts

        database_gauge_register(
            "celery_tasks_parked",
            "Tasks taken off their queue after too many deliveries and not sent again, by task",
            label="task",
            read=parked_task_counts,
        )
