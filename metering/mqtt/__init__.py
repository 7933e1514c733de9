"""Live meter telemetry over MQTT: `messages` (Django-free parsing and reject notes) and `consumer` (the
thread behind `manage.py mqtt_ingest`). Import the module you need; this package imports neither."""
