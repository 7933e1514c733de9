"""Concurrent publishers must not fork the ledger (PostgreSQL: advisory lock, unique head constraints)."""

import threading

import pytest
from django.db import connection

from pricing.models import LedgerEntry
from pricing.selectors.ledger import ledger_verify
from tests.integration.pricing.test_publication import make_dynamic_tariff, make_prices, publish

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_publishers_at_once_append_a_linear_chain():
    make_dynamic_tariff("DYN-A")
    make_dynamic_tariff("DYN-B")
    make_prices()
    barrier = threading.Barrier(2)
    errors = []

    def run(code: str) -> None:
        try:
            barrier.wait(timeout=10)
            publish(code)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(code,)) for code in ("DYN-A", "DYN-B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    first, second = LedgerEntry.objects.order_by("sequence")
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_sha256 == "0" * 64
    assert second.previous_sha256 == first.entry_sha256
    assert {first.publication.tariff.code, second.publication.tariff.code} == {"DYN-A", "DYN-B"}
    assert ledger_verify().ok
