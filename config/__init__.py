"""Project wiring: settings, URLs, the Celery app, the root GraphQL schema and cross-app API plumbing."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
