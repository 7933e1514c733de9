import logging
import signal

from django.core.management.base import BaseCommand, CommandError

from metering.mqtt.consumer import DEFAULT_CLIENT_ID, SESSION_NEVER_EXPIRES, MqttIngestor, mqtt_url
from metering.mqtt.messages import DEFAULT_TOPIC_ROOT


class Command(BaseCommand):
    help = (
        "Ingest live meter readings from MQTT (meters/+/readings, QoS 1, persistent session) until "
        "SIGTERM/SIGINT; each message is acknowledged after its batch committed. See docs/mqtt.md."
    )
    # A telemetry consumer serves no URLs: skip the checks that import the URL conf and GraphQL schema
    # (seconds of start-up, and unrelated to ingest).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="Broker, e.g. mqtt://user:pass@host:1883 (MQTT_URL)")
        parser.add_argument(
            "--client-id", default=DEFAULT_CLIENT_ID, help="Stable id that names the persistent session"
        )
        parser.add_argument(
            "--topic-root", default=DEFAULT_TOPIC_ROOT, help="Readings on <root>/<serial>/readings"
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Messages per batch at most")
        parser.add_argument("--batch-ms", type=int, default=100, help="Wait after a batch's first message")
        parser.add_argument(
            "--progress-seconds", type=float, default=10.0, help="Progress line interval (0: none)"
        )
        parser.add_argument("--max-seconds", type=float, default=None, help="Stop after this long")
        parser.add_argument("--max-messages", type=int, default=None, help="Stop after this many messages")
        parser.add_argument("--protocol", choices=["5", "3.1.1"], default="5", help="MQTT version")
        parser.add_argument(
            "--session-expiry",
            type=int,
            default=SESSION_NEVER_EXPIRES,
            help="MQTT 5: seconds the broker keeps the session while the consumer is away (default: never "
            "expires)",
        )

    def handle(self, *args, **options):
        level = {0: logging.WARNING, 1: logging.INFO}.get(options["verbosity"], logging.DEBUG)
        logging.getLogger("metering.mqtt").setLevel(level)  # messages and consumer
        try:
            ingestor = self._ingestor(options)
        except ValueError as exc:  # a bad URL, topic root or batch option
            raise CommandError(str(exc)) from exc
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: ingestor.stop())
        stats = ingestor.run()
        self.stdout.write(f"mqtt_ingest stopped: {stats.summary()}")

    def _ingestor(self, options) -> MqttIngestor:
        return MqttIngestor(
            url=options["url"] or mqtt_url(),
            client_id=options["client_id"],
            topic_root=options["topic_root"],
            batch_size=options["batch_size"],
            batch_ms=options["batch_ms"],
            progress_seconds=options["progress_seconds"],
            max_seconds=options["max_seconds"],
            max_messages=options["max_messages"],
            protocol=options["protocol"],
            session_expiry=options["session_expiry"],
        )
