import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from metering.models import Source
from metering.services.readings import readings_ingest
from metering.services.simulation import simulated_days, simulated_fleet_ensure


class Command(BaseCommand):
    help = (
        "Simulate smart meters: create N meter points with premise attributes and write or publish their "
        "half-hourly readings (consumption model calibrated on real London households)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--meters", type=int, default=100)
        parser.add_argument("--start", default=None, help="First UTC day, YYYY-MM-DD (default: yesterday).")
        parser.add_argument("--days", type=int, default=1)
        parser.add_argument("--publish", choices=["db", "mqtt"], default="db")
        parser.add_argument("--prefix", default="SIM")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--timezone", default="Europe/London")
        parser.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        if options["meters"] < 1 or options["days"] < 1:
            raise CommandError("--meters and --days must be at least 1.")
        if options["start"]:
            try:
                start = datetime.fromisoformat(options["start"]).replace(tzinfo=UTC)
            except ValueError as exc:
                raise CommandError(f"--start: '{options['start']}' is not a date (YYYY-MM-DD).") from exc
        else:
            start = datetime.combine(timezone.now().date() - timedelta(days=1), dt_time(), tzinfo=UTC)
        fleet = simulated_fleet_ensure(
            count=options["meters"],
            prefix=options["prefix"],
            seed=options["seed"],
            timezone=options["timezone"],
        )
        publisher = _MqttPublisher(options["mqtt_url"], fleet) if options["publish"] == "mqtt" else None
        totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "published": 0}
        started = time.perf_counter()
        days = simulated_days(fleet=fleet, start=start, days=options["days"], seed=options["seed"])
        for readings in tqdm(days, total=options["days"], unit=" day", disable=options["no_progress"]):
            if publisher:
                totals["published"] += publisher.publish(readings)
                continue
            result = readings_ingest(readings=readings, source=Source.SIMULATOR, now=timezone.now())
            totals["accepted"] += result.accepted
            totals["duplicates"] += result.duplicates
            totals["rejected"] += result.rejected_count
        if publisher:
            publisher.close()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{options['meters']} meters x {options['days']} days from {start:%Y-%m-%d} in {elapsed:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in totals.items() if v or k == "accepted")
        )


class _MqttPublisher:
    """Publishes each reading as one QoS 1 message to meters/<serial>/readings."""

    def __init__(self, url: str, fleet):
        import paho.mqtt.client as mqtt

        host, _, port = url.removeprefix("mqtt://").partition(":")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
        self.client.connect(host, int(port or 1883))
        self.client.loop_start()
        self.serial_of = {
            int(i): s for i, s in zip(fleet.import_meter_ids, fleet.import_serials, strict=True)
        }
        self.serial_of.update(
            {int(i): s for i, s in zip(fleet.export_meter_ids, fleet.export_serials, strict=True) if s}
        )

    def publish(self, readings) -> int:
        pending = []
        for meter_id, start, end, kwh_e4 in zip(
            readings.meter_id.tolist(),
            readings.start.tolist(),
            readings.end.tolist(),
            readings.kwh_e4.tolist(),
            strict=True,
        ):
            payload = {
                "intervalStart": start.replace(tzinfo=UTC).isoformat(),
                "intervalEnd": end.replace(tzinfo=UTC).isoformat(),
                "kwh": str(Decimal(kwh_e4).scaleb(-4)),
            }
            pending.append(
                self.client.publish(f"meters/{self.serial_of[meter_id]}/readings", json.dumps(payload), qos=1)
            )
        for info in pending:
            info.wait_for_publish(timeout=30)
        return len(pending)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()
