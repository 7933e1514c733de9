"""Services hand work to tasks by name (core.jobs): every name they use is a registered task, and the work
starts only once the change commits."""

import re
from pathlib import Path

import pytest
from django.db import transaction

from core.jobs import enqueue_on_commit, task_by_name

ROOT = Path(__file__).resolve().parents[3]
TASK_NAME = re.compile(r'^[A-Z_]*TASK[A-Z_]* = "([a-z_.]+)"$', re.MULTILINE)


def task_names_in_services() -> list[str]:
    names = []
    for app in ("metering", "forecasting", "pricing", "billing", "grid"):
        for path in sorted((ROOT / app).glob("services/**/*.py")):
            names += TASK_NAME.findall(path.read_text())
    return names


def test_every_task_a_service_names_is_registered():
    names = task_names_in_services()

    assert "billing.tasks.webhooks.webhook_deliver" in names
    for name in names:
        assert task_by_name(name).name == name


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_rolled_back_transaction_never_runs(monkeypatch):
    sent = []
    task = task_by_name("config.tasks.heartbeat")
    monkeypatch.setattr(task, "apply_async", lambda **kwargs: sent.append(kwargs))

    with transaction.atomic():
        enqueue_on_commit("config.tasks.heartbeat")
        transaction.set_rollback(True)
    with transaction.atomic():
        enqueue_on_commit("config.tasks.heartbeat", note="kept")
        assert sent == []  # not before the commit

    assert sent == [{"kwargs": {"note": "kept"}}]
