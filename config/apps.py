from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project wiring; an app only for its management commands (the demo) and migration history."""

    name = "config"
    verbose_name = "Project"
