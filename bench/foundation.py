"""Platform figures: demo set-up time on a fresh SQLite file, and the latency of an authenticated GraphQL
query (token check, scope check, one selector) through the full Django stack in-process.

    .venv/bin/python bench/foundation.py            # uses DATABASE_URL if set, else a temporary SQLite file
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def demo_seconds() -> float:
    db = Path(tempfile.mkdtemp()) / "demo.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    env.pop("REDIS_URL", None)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "demo", "--no-serve"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def graphql_latency(requests: int = 500) -> tuple[float, float]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from billing.services.customers import customer_create
    from core.services import api_client_create

    call_command("migrate", verbosity=0)
    customer_create(account_number="BENCH-1", name="Bench")
    client, _ = api_client_create(name=f"bench-{time.time()}", scopes=["billing:read"])
    token = AccessToken.objects.create(
        application=client.application,
        token=f"bench-{time.time()}",
        scope="billing:read",
        expires=timezone.now() + timedelta(hours=1),
    )
    http = Client(SERVER_NAME="127.0.0.1", headers={"Authorization": f"Bearer {token.token}"})
    body = json.dumps({"query": '{ customer(accountNumber: "BENCH-1") { accountNumber name } }'})
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = http.post("/graphql/", data=body, content_type="application/json")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        assert "errors" not in response.json()
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * len(timings)) - 1]


if __name__ == "__main__":
    print(f"demo --no-serve on fresh SQLite: {demo_seconds():.1f} s", flush=True)
    p50, p95 = graphql_latency()
    print(f"authenticated GraphQL query: p50 {p50:.1f} ms, p95 {p95:.1f} ms (500 requests, in-process)")
