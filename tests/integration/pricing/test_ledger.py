"""Ledger verification against tampering (pricing/selectors/ledger.py): every form is caught at the first
broken entry. On PostgreSQL the immutability triggers are switched off inside the test's transaction."""

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from pricing import ledger
from pricing.models import LedgerEntry, PublishedRate, RatePublication
from pricing.selectors.ledger import ledger_verify
from pricing.tasks.dynamic import price_ledger_verify_task
from tests.integration.pricing.test_publication import DAY, make_dynamic_tariff, make_prices, publish

pytestmark = pytest.mark.django_db


@contextmanager
def triggers_off():
    """Let the test tamper with immutable rows (PostgreSQL refuses UPDATE/DELETE by trigger)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def chain():
    """Three publications (three days of one tariff): ledger entries 1, 2, 3."""
    make_dynamic_tariff()
    for offset in range(3):
        make_prices(DAY + timedelta(days=offset), price=str(50 + offset))
        publish(day=DAY + timedelta(days=offset))
    return list(LedgerEntry.objects.order_by("sequence"))


def broken() -> tuple[int, str]:
    report = ledger_verify(chunk=2)  # chunks smaller than the chain: exercise the paging
    assert not report.ok
    return report.first_broken.sequence, report.first_broken.reason


def test_an_untouched_ledger_verifies(chain, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        report = ledger_verify(chunk=2)

    assert report == ledger.VerifyReport(entries_checked=3, ok=True)
    assert price_ledger_verify_task() == {"entries_checked": 3, "ok": True, "first_broken": None}


def test_an_edited_published_rate_is_caught(chain):
    with triggers_off():
        rate = (
            PublishedRate.objects.filter(publication=chain[1].publication).order_by("interval_start").first()
        )
        PublishedRate.objects.filter(pk=rate.pk).update(rate_per_kwh=Decimal("0.010000"))

    sequence, reason = broken()

    assert sequence == 2
    assert reason.startswith("content mismatch")


def test_an_edited_breakdown_is_caught(chain):
    with triggers_off():
        rate = (
            PublishedRate.objects.filter(publication=chain[2].publication).order_by("interval_start").last()
        )
        PublishedRate.objects.filter(pk=rate.pk).update(
            breakdown=[{"rule": "market", "per_kwh": "0.1", "note": ""}]
        )

    assert broken()[0] == 3


def test_an_edited_publication_is_caught(chain):
    with triggers_off():
        RatePublication.objects.filter(pk=chain[0].publication_id).update(day=date(2024, 2, 1))

    assert broken() == (1, "content mismatch: the publication or its published rates were changed or deleted")


def test_a_rewritten_publication_hash_is_caught(chain):
    with triggers_off():
        RatePublication.objects.filter(pk=chain[1].publication_id).update(content_sha256="a" * 64)

    sequence, reason = broken()

    assert sequence == 2
    assert reason.startswith("content hash mismatch")


def test_deleted_rate_rows_are_caught(chain):
    with triggers_off():
        PublishedRate.objects.filter(publication=chain[2].publication).order_by(
            "interval_start"
        ).first().delete()

    assert broken()[0] == 3


def test_a_deleted_entry_is_caught_as_a_sequence_gap(chain):
    with triggers_off():
        LedgerEntry.objects.filter(sequence=2).delete()

    sequence, reason = broken()

    assert sequence == 2
    assert reason.startswith("sequence gap")


def test_a_deleted_last_entry_is_caught_by_its_orphaned_publication(chain):
    with triggers_off():
        LedgerEntry.objects.filter(sequence=3).delete()

    sequence, reason = broken()

    assert sequence == 3
    assert "has no ledger entry" in reason


def test_swapped_entries_are_caught(chain):
    with triggers_off():
        LedgerEntry.objects.filter(sequence=1).update(sequence=99)
        LedgerEntry.objects.filter(sequence=2).update(sequence=1)
        LedgerEntry.objects.filter(sequence=99).update(sequence=2)

    sequence, reason = broken()

    assert sequence == 1
    assert reason.startswith("previous hash mismatch")


def test_a_forged_entry_with_a_recomputed_entry_hash_is_caught(chain):
    forged = "f" * 64
    entry = chain[1]
    with triggers_off():
        LedgerEntry.objects.filter(pk=entry.pk).update(
            content_sha256=forged, entry_sha256=ledger.entry_hash(entry.previous_sha256, forged, 2)
        )

    sequence, reason = broken()

    assert sequence == 2
    assert reason.startswith("content hash mismatch")


def test_a_forged_entry_hash_is_caught(chain):
    with triggers_off():
        LedgerEntry.objects.filter(sequence=3).update(entry_sha256="e" * 64)

    assert broken() == (3, "entry hash mismatch: the entry was forged or altered")


def test_the_verify_command_exits_non_zero_naming_the_first_broken_entry(chain, capsys):
    call_command("price_ledger_verify")
    assert "3 entries verified" in capsys.readouterr().out
    with triggers_off():
        LedgerEntry.objects.filter(sequence=3).update(entry_sha256="e" * 64)

    with pytest.raises(CommandError, match="ledger broken at entry 3: entry hash mismatch"):
        call_command("price_ledger_verify")
    assert price_ledger_verify_task()["first_broken"]["sequence"] == 3


@pytest.mark.postgres
def test_postgresql_refuses_to_update_published_rates(chain):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        PublishedRate.objects.filter(publication=chain[0].publication).update(rate_per_kwh=Decimal("1"))


def test_admin_shows_publications_read_only_and_verifies_the_ledger(chain, client, staff):
    client.force_login(staff)
    publication = chain[0].publication

    page = client.get(f"/admin/pricing/ratepublication/{publication.pk}/change/")
    verified = client.get("/admin/pricing/ledgerentry/verify/", follow=True)
    action = client.post(
        "/admin/pricing/ledgerentry/",
        {"action": "verify_ledger", "_selected_action": [chain[0].pk]},
        follow=True,
    )

    assert page.status_code == 200
    assert "market" in page.content.decode()
    assert "Ledger intact: 3 entries verified." in verified.content.decode()
    assert "Ledger intact: 3 entries verified." in action.content.decode()
    assert client.post(f"/admin/pricing/ledgerentry/{chain[0].pk}/delete/").status_code == 403
