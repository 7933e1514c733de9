"""GraphQL `readingsIngestBlocks` (ESPI / Green Button interval blocks) over HTTP through the full Django
stack in-process (token check, body cap, parsing, bulk value parsing, validation, COPY + merge): readings/s.

100 meters × 2,880 half-hours (60 days) = 288,000 readings, sent as decimal strings, once as one request per
10 meters (28,800 values, ~280 KB each) and once as a single request of all 100 blocks (~2.7 MB); then the
same again (all duplicates). In the same run, for reference on the same machine and load: `readingsIngest`
(one typed object per reading) with 10 requests of 1,000 readings.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/metering_block_ingest.py
"""

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DJANGO_DEBUG"] = "false"

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from core.services import api_client_create
from metering.models import Meter, Reading
from metering.services.meters import meter_install, meter_point_create

METERS = 100
VALUES = 2_880
REFERENCE_BATCHES = 10  # readingsIngest (one typed object per reading), 1,000 readings per request
OBJECTS = """mutation($input: ReadingsIngestInput!) { readingsIngest(input: $input) {
  ... on IngestResult { accepted duplicates rejectedCount } } }"""
MUTATION = """mutation($input: ReadingsIngestBlocksInput!) { readingsIngestBlocks(input: $input) {
  ... on IngestResult { accepted duplicates rejectedCount }
  ... on OperationInfo { messages { code field message } } } }"""


def _bodies(serials: list[str], start: datetime, per_request: int) -> list[str]:
    bodies = []
    for at in range(0, len(serials), per_request):
        blocks = [
            {
                "meterSerial": serial,
                "start": start.isoformat(),
                "resolution": "PT30M",
                "values": [f"0.{(m * 7 + i) % 1000:03d}" for i in range(VALUES)],
            }
            for m, serial in enumerate(serials[at : at + per_request], start=at)
        ]
        bodies.append(json.dumps({"query": MUTATION, "variables": {"input": {"blocks": blocks}}}))
    return bodies


def _run(http: Client, label: str, bodies: list[str], expect_accepted: bool) -> None:
    started = time.perf_counter()
    accepted = duplicates = 0
    for body in bodies:
        response = http.post("/graphql/", data=body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        result = response.json()["data"]["readingsIngestBlocks"]
        assert result.get("rejectedCount") == 0, result
        accepted += result["accepted"]
        duplicates += result["duplicates"]
    elapsed = time.perf_counter() - started
    total = METERS * VALUES
    assert (accepted if expect_accepted else duplicates) == total, (accepted, duplicates)
    size = sum(len(b) for b in bodies) / len(bodies) / 1024
    print(
        f"readingsIngestBlocks {label}: {len(bodies)} request(s) of ~{size:,.0f} KB, {total:,} readings in "
        f"{elapsed:.2f} s = {total / elapsed:,.0f} readings/s"
    )


def _reference(http: Client, serials: list[str], start: datetime) -> None:
    bodies = []
    for serial in serials:
        readings = [
            {
                "intervalStart": (start + timedelta(minutes=30 * i)).isoformat(),
                "intervalEnd": (start + timedelta(minutes=30 * (i + 1))).isoformat(),
                "kwh": f"0.{i % 1000:03d}",
            }
            for i in range(1_000)
        ]
        bodies.append(
            json.dumps(
                {"query": OBJECTS, "variables": {"input": {"meterSerial": serial, "readings": readings}}}
            )
        )
    ids = list(Meter.objects.filter(serial__in=serials).values_list("pk", flat=True))
    Reading.objects.filter(meter_id__in=ids, interval_start__gte=start,
                           interval_start__lt=start + timedelta(minutes=30 * 1_000)).delete()  # fmt: skip
    started = time.perf_counter()
    for body in bodies:
        result = http.post("/graphql/", data=body, content_type="application/json").json()["data"]
        assert result["readingsIngest"]["accepted"] == 1_000, result
    elapsed = time.perf_counter() - started
    print(
        f"reference, readingsIngest (typed objects) first ingest: {len(bodies)} requests of 1,000 readings in "
        f"{elapsed:.2f} s = {len(bodies) * 1_000 / elapsed:,.0f} readings/s"
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    client, _ = api_client_create(name=f"bench-blocks-{time.time()}", scopes=["metering:write"])
    token = AccessToken.objects.create(
        application=client.application,
        token=f"bench-blocks-{time.time()}",
        scope="metering:write",
        expires=timezone.now() + timedelta(hours=1),
    )
    http = Client(SERVER_NAME="127.0.0.1", headers={"Authorization": f"Bearer {token.token}"})
    installed = datetime(2022, 1, 1, tzinfo=UTC)
    serials = [f"BENCH-BLK-{m:03d}" for m in range(METERS)]
    for serial in serials:
        if not Meter.objects.filter(serial=serial).exists():
            meter_point_create(identifier=serial)
            meter_install(meter_point_identifier=serial, serial=serial, installed_at=installed)
    ids = list(Meter.objects.filter(serial__in=serials).values_list("pk", flat=True))
    # Warm up (URL resolution imports and builds the schema on the first request).
    warm = json.dumps({"query": MUTATION, "variables": {"input": {"blocks": []}}})
    assert http.post("/graphql/", data=warm, content_type="application/json").status_code == 200
    for label, per_request, start in (
        ("10 meters per request", 10, datetime(2023, 1, 1, tzinfo=UTC)),
        ("100 meters in one request", 100, datetime(2023, 6, 1, tzinfo=UTC)),
    ):
        Reading.objects.filter(meter_id__in=ids, interval_start__gte=start,
                               interval_start__lt=start + timedelta(minutes=30 * VALUES)).delete()  # fmt: skip
        with connection.cursor() as cursor:  # a fresh period: no dead rows of an earlier run to scan
            cursor.execute("VACUUM ANALYZE metering_reading")
        bodies = _bodies(serials, start, per_request)
        _run(http, f"{label}, first ingest", bodies, expect_accepted=True)
        _run(http, f"{label}, re-sent (all duplicates)", bodies, expect_accepted=False)
    _reference(http, serials[:REFERENCE_BATCHES], datetime(2024, 1, 1, tzinfo=UTC))
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
