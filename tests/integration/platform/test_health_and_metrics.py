import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["vendor"] == ("postgresql" if settings.IS_POSTGRES else "sqlite")


@pytest.mark.redis
def test_healthz_checks_the_real_broker_when_one_is_configured(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    body = client.get("/healthz").json()

    assert body["checks"]["broker"] == {**body["checks"]["broker"], "ok": True, "mode": "broker"}


def test_healthz_says_unavailable_when_the_broker_is_down(client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def refuse(*_args, **_kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr("config.health._check_broker", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "ConnectionRefusedError"}


def test_metrics_are_exposed_for_prometheus(client):
    client.get("/healthz")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content
