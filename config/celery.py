"""The Celery app. Settings come from Django's (CELERY_* names); tasks live in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Every task counts its deliveries and is parked after CELERY_TASK_MAX_DELIVERIES (core/task_deliveries.py).
app = Celery("config", task_cls="core.task_deliveries:DeliveryCountedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["config", "metering", "forecasting", "pricing", "billing", "grid"])
