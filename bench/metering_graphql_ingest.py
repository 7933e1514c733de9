"""GraphQL `readingsIngest` with batches of 1,000 readings (one meter each), through the full Django stack
in-process (token check, parsing, validation, COPY + merge): rows/s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/metering_graphql_ingest.py
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
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from core.services import api_client_create
from metering.models import Meter
from metering.services.meters import meter_install, meter_point_create

BATCHES = 40
BATCH = 1_000
MUTATION = """mutation($input: ReadingsIngestInput!) { readingsIngest(input: $input) {
  ... on IngestResult { accepted duplicates rejectedCount } } }"""


def main() -> None:
    call_command("migrate", verbosity=0)
    client, _ = api_client_create(name=f"bench-ingest-{time.time()}", scopes=["metering:write"])
    token = AccessToken.objects.create(
        application=client.application,
        token=f"bench-{time.time()}",
        scope="metering:write",
        expires=timezone.now() + timedelta(hours=1),
    )
    http = Client(SERVER_NAME="127.0.0.1", headers={"Authorization": f"Bearer {token.token}"})
    start = datetime(2023, 1, 1, tzinfo=UTC)
    bodies = []
    for b in range(BATCHES):
        serial = f"BENCH-GQL-{b:03d}"
        if not Meter.objects.filter(serial=serial).exists():
            meter_point_create(identifier=serial)
            meter_install(meter_point_identifier=serial, serial=serial, installed_at=start)
        readings = [
            {
                "intervalStart": (start + timedelta(minutes=30 * i)).isoformat(),
                "intervalEnd": (start + timedelta(minutes=30 * (i + 1))).isoformat(),
                "kwh": f"0.{(b * 7 + i) % 1000:03d}",
            }
            for i in range(BATCH)
        ]
        bodies.append(
            json.dumps(
                {"query": MUTATION, "variables": {"input": {"meterSerial": serial, "readings": readings}}}
            )
        )
    for label in ("first ingest", "re-sent (all duplicates)"):
        started = time.perf_counter()
        for body in bodies:
            response = http.post("/graphql/", data=body, content_type="application/json")
            result = response.json()["data"]["readingsIngest"]
            assert result["rejectedCount"] == 0, result
        elapsed = time.perf_counter() - started
        print(
            f"readingsIngest {label}: {BATCHES} batches x {BATCH} readings in {elapsed:.2f} s = "
            f"{BATCHES * BATCH / elapsed:,.0f} rows/s ({elapsed / BATCHES * 1000:.0f} ms per batch)"
        )


if __name__ == "__main__":
    main()
