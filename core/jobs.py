"""Handing work to a Celery task from a service, without the service importing the task.

A service names the task (its module path and function name) and the work is sent once the surrounding
transaction commits, so a rolled-back change starts nothing and the task never sees missing rows. The
adapter modules in each app's `tasks/` import the services, never the other way round. With no broker the
project runs tasks in-process (`CELERY_TASK_ALWAYS_EAGER`), which `apply_async` honours.
"""

import logging
from typing import Any

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, /, **kwargs: Any) -> None:
    """Send `task_name` with keyword arguments `kwargs` after the current transaction commits (now if
    there is none). A broker outage is logged and does not undo the committed change."""
    transaction.on_commit(lambda: task_by_name(task_name).apply_async(kwargs=kwargs), robust=True)


def task_by_name(task_name: str) -> Any:
    """The registered task `task_name`; the apps' task modules are imported (registered) on first use."""
    tasks = current_app.tasks
    if task_name not in tasks:
        current_app.loader.import_default_modules()
    return tasks[task_name]
