"""Live MQTT telemetry into PostgreSQL through the real broker: sustained rate, latency, burst throughput.

The consumer (`metering.mqtt.consumer.MqttIngestor`, the code behind `manage.py mqtt_ingest`) runs in this process in
a thread; a hook records each batch's commit time. Devices are simulated by a publisher in a separate
process (QoS 1), each message carrying `sentAt`, so latency = commit time − sentAt (one clock).

  - steady: N meters × R messages/s for S seconds (default 100 × 1/s × 30 s): messages/s ingested and
    publish-to-stored latency p50/p95/p99
  - burst: M messages (default 20,000) published as fast as --publishers processes can: the consumer's
    maximum sustained throughput. The publishers stay at most --window messages ahead of what is stored:
    Mosquitto holds at most the consumer's in-flight window (MQTT 5 Receive Maximum, 2 × batch size) plus
    max_queued_messages (default 1000) for a client and drops the rest, and a committed batch is
    acknowledged just after it counts as stored, so the default window leaves one batch of headroom.

With --secure the bench starts its own Mosquitto running the project's configuration (deploy/mosquitto:
TLS only, an account per meter, the ACL) on a free port, with throwaway certificates and passwords; every
meter then publishes over TLS with its own account, and the consumer reads with `metering-ingest`.
Without it, the broker of MQTT_URL is used with anonymous publishers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/metering_mqtt.py \
        [--meters 100] [--rate 1] [--seconds 30] [--burst 20000] [--protocol 5|3.1.1] [--secure]
"""

import argparse
import multiprocessing
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
BASE = datetime(2024, 1, 1, tzinfo=UTC)  # readings of January 2024; the burst starts at slot BURST_SLOT
BURST_SLOT = 1_000
SERIAL = "BENCH-MQTT-{:03d}"


def payload(slot: int) -> bytes:
    start = BASE + timedelta(minutes=30 * slot)
    end = start + timedelta(minutes=30)
    sent_at = datetime.now(UTC).isoformat(timespec="microseconds")
    return (
        f'{{"intervalStart": "{start:%Y-%m-%dT%H:%M:%SZ}", "intervalEnd": "{end:%Y-%m-%dT%H:%M:%SZ}", '
        f'"kwh": "{(slot % 97) / 100:.2f}", "sentAt": "{sent_at}"}}'
    ).encode()


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    ca_file: str | None = None  # TLS
    device_password: str | None = None  # None: anonymous publishers; else one account per meter
    ingest_url: str | None = None  # the consumer's MQTT URL (None: the MQTT_URL setting)


def _client(broker: Broker, username: str | None = None, password: str | None = None) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(1000)
    if username:
        client.username_pw_set(username, password)
    if broker.ca_file:
        client.tls_set(ca_certs=broker.ca_file)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def publish(broker: Broker, meters: range, total: int, first_slot: int, rate: float, window: int, counts):
    """Publisher process: `total` messages round-robin over `meters`, at `rate` per second; with rate 0 as
    fast as it can while all publishers together stay at most `window` messages ahead of storage. On a
    secured broker each meter is a client of its own (its account); otherwise one client sends for all."""
    published, stored = counts
    if broker.device_password:
        clients = [_client(broker, SERIAL.format(m), broker.device_password) for m in meters]
    else:
        clients = [_client(broker)] * len(meters)
    topics = [f"meters/{SERIAL.format(m)}/readings" for m in meters]
    started = time.perf_counter()
    last = None
    for i in range(total):
        if rate:
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        else:
            while published.value - stored.value >= window:
                time.sleep(0.0005)
        with published.get_lock():
            published.value += 1
        last = clients[i % len(topics)].publish(
            topics[i % len(topics)], payload(first_slot + i // len(topics)), qos=1
        )
    last.wait_for_publish(30)
    for client in set(clients):
        client.disconnect()
        client.loop_stop()


def secured_broker(directory: str, meters: int) -> tuple[Broker, subprocess.Popen]:
    """Mosquitto with deploy/mosquitto's configuration on a free loopback port (see the module doc)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ingest_password, device_password = secrets.token_hex(16), secrets.token_hex(16)
    subprocess.run(
        [str(ROOT / "deploy" / "mosquitto" / "throwaway-broker"), directory, str(port)],
        check=True,
        env={
            **os.environ,
            "MQTT_INGEST_PASSWORD": ingest_password,
            "MQTT_DEVICES": " ".join(SERIAL.format(i) for i in range(meters)),
            "MQTT_DEVICE_PASSWORD": device_password,
        },
    )
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen(
        [mosquitto, "-c", f"{directory}/mosquitto.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    broker = Broker(
        host="localhost",
        port=port,
        ca_file=f"{directory}/certs/ca.crt",
        device_password=device_password,
        ingest_url=f"mqtts://metering-ingest:{ingest_password}@localhost:{port}",
    )
    return broker, process


class Recorder:
    """The consumer's batch hook: latency per message and the stored count (shared with the publisher)."""

    def __init__(self, published, stored):
        self.published = published
        self.stored = stored
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.latency_ms: list[float] = []
            self.transit_ms: list[float] = []
            self.batch_sizes: list[int] = []
            self.first_sent = self.last_commit = None
            self.messages = 0
            self.most_outstanding = 0
            self.stored.value = 0
            self.published.value = 0

    def __call__(self, report) -> None:
        with self.lock:
            for message, sent_at in zip(report.messages, report.sent_at, strict=True):
                if sent_at is not None:
                    sent = sent_at.timestamp()
                    self.first_sent = min(sent, self.first_sent or sent)
                    self.latency_ms.append((report.committed_at - sent) * 1000)
                    self.transit_ms.append((message.received_at - sent) * 1000)
            self.batch_sizes.append(len(report.messages))
            self.last_commit = report.committed_at
            self.most_outstanding = max(self.most_outstanding, self.published.value - self.messages)
            self.messages += len(report.messages)
            self.stored.value = self.messages

    def wait_for(self, messages: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.messages >= messages:
                return True
            time.sleep(0.01)
        return False


def percentiles(values: list[float]) -> str:
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {max(values):.0f} ms"


def setup_meters(n: int) -> list[int]:
    from metering.models import Meter, Reading, ReadingDay, ReadingRevision
    from metering.services.meters import meter_install, meter_point_create

    have = set(Meter.objects.filter(serial__startswith="BENCH-MQTT-").values_list("serial", flat=True))
    for i in range(n):
        if SERIAL.format(i) not in have:
            point = meter_point_create(
                identifier=f"BENCH-MQTT-MP-{i:03d}", feeder_code=f"FMQTT{i % 10}", region_code="RMQTT"
            )
            meter_install(
                meter_point_identifier=point.identifier,
                serial=SERIAL.format(i),
                installed_at=BASE - timedelta(1),
            )
    ids = list(
        Meter.objects.filter(serial__in=[SERIAL.format(i) for i in range(n)]).values_list("id", flat=True)
    )
    Reading.objects.filter(meter_id__in=ids).delete()
    ReadingDay.objects.filter(meter_id__in=ids).delete()
    ReadingRevision.objects.filter(meter_id__in=ids).delete()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1.0, help="messages per meter per second (steady)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    parser.add_argument("--burst", type=int, default=20_000, help="messages in the burst (0: no burst)")
    parser.add_argument("--window", type=int, default=1000, help="burst: most messages published, not stored")
    parser.add_argument("--publishers", type=int, default=2, help="burst: publisher processes")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-ms", type=int, default=100)
    parser.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    parser.add_argument("--secure", action="store_true", help="the project's broker configuration (TLS, ACL)")
    args = parser.parse_args()
    args.burst -= args.burst % args.publishers  # an equal share per publisher
    if args.protocol == "3.1.1":  # in flight: Mosquitto's max_inflight_messages (20), not 2 × batch size
        args.window = min(args.window, 500)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from metering.models import Reading, Source
    from metering.mqtt.consumer import MqttIngestor, mqtt_url
    from metering.mqtt.messages import broker_address

    assert connection.vendor == "postgresql", "run on PostgreSQL (set DATABASE_URL)"
    call_command("migrate", verbosity=0)
    meter_ids = setup_meters(args.meters)
    connection.close()  # the consumer thread opens its own
    mosquitto = None
    if args.secure:
        workdir = tempfile.mkdtemp(prefix="bench-mqtt-")
        broker, mosquitto = secured_broker(workdir, args.meters)
    else:
        address = broker_address(mqtt_url())
        broker = Broker(address.host, address.port)
    context = multiprocessing.get_context("spawn")
    published, stored = context.Value("q", 0), context.Value("q", 0, lock=False)
    recorder = Recorder(published, stored)
    client_id = f"bench-mqtt-{uuid.uuid4().hex[:8]}"
    ingestor = MqttIngestor(
        url=broker.ingest_url,
        ca_file=broker.ca_file,
        client_id=client_id,
        batch_size=args.batch_size,
        batch_ms=args.batch_ms,
        progress_seconds=0,
        protocol=args.protocol,
        session_expiry=300,  # removed at the end; expires by itself should the bench be killed
        on_batch=recorder,
    )
    runner = threading.Thread(target=ingestor.run, daemon=True)
    runner.start()
    assert ingestor.subscribed.wait(10), "consumer did not subscribe"
    print(
        f"consumer: MQTT {args.protocol}, batches of ≤ {args.batch_size} messages / {args.batch_ms} ms; "
        f"broker {broker.host}:{broker.port}"
        + (" (project configuration: TLS, an account per meter, ACL)" if args.secure else "")
        + f"; {args.meters} meters",
        flush=True,
    )

    def phase(total: int, first_slot: int, rate: float, peers: int) -> None:
        recorder.reset()
        publishers = [
            context.Process(
                target=publish,
                args=(
                    broker,
                    range(p, args.meters, peers),
                    total // peers,
                    first_slot,
                    rate / peers,
                    args.window,
                    (published, stored),
                ),
            )
            for p in range(peers)
        ]
        for publisher in publishers:
            publisher.start()
        for publisher in publishers:
            publisher.join()
        complete = recorder.wait_for(total, timeout=60)
        assert complete, f"only {recorder.messages} of {total} messages stored"

    try:
        steady = int(args.meters * args.rate * args.seconds)
        phase(steady, 0, args.meters * args.rate, 1)
        elapsed = recorder.last_commit - recorder.first_sent
        print(
            f"steady: {steady:,} messages over {elapsed:.1f} s = {steady / elapsed:,.0f} msg/s ingested "
            f"(offered {args.meters * args.rate:,.0f}/s); {len(recorder.batch_sizes)} batches, "
            f"mean {np.mean(recorder.batch_sizes):.1f} messages",
            flush=True,
        )
        print(f"  publish → stored (commit): {percentiles(recorder.latency_ms)}")
        print(f"  publish → received by the consumer: {percentiles(recorder.transit_ms)}", flush=True)

        if args.burst:
            phase(args.burst, BURST_SLOT, 0, args.publishers)
            elapsed = recorder.last_commit - recorder.first_sent
            print(
                f"burst: {args.burst:,} messages in {elapsed:.1f} s = {args.burst / elapsed:,.0f} msg/s "
                f"sustained; {len(recorder.batch_sizes)} batches, mean {np.mean(recorder.batch_sizes):.0f} "
                f"messages",
                flush=True,
            )
            print(f"  publish → stored (commit): {percentiles(recorder.latency_ms)}")
            print(f"  most messages published but not yet stored: {recorder.most_outstanding:,}")
    finally:
        ingestor.stop()
        runner.join(30)
        if mosquitto is not None:
            mosquitto.terminate()
            mosquitto.wait(10)
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
            cleaner.connect(broker.host, broker.port, clean_start=True)  # removes the bench's session
            cleaner.loop_start()
            cleaner.disconnect()
            cleaner.loop_stop()

    rows = Reading.objects.filter(meter_id__in=meter_ids)
    expected = steady + args.burst
    assert rows.count() == expected, f"{rows.count()} readings stored, expected {expected}"
    assert set(rows.values_list("source", flat=True).distinct()) == {Source.MQTT}
    stats = ingestor.stats
    print(f"stored readings: {rows.count():,} (each exactly once); consumer totals: {stats.summary()}")


if __name__ == "__main__":
    main()
