"""The ledger against a database-level attacker: entries carry an HMAC with a key from settings and the
chain head is exported, signed, outside the database; `price_ledger_verify` detects a recomputed tail and a
truncated end (docs/dynamic-pricing.md)."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from pricing import ledger
from pricing.models import LedgerEntry, PublishedRate, RatePublication
from pricing.selectors.ledger import ledger_key, ledger_verify, publication_content_sha256
from pricing.services.ledger import ledger_head_export
from pricing.tasks.dynamic import price_ledger_head_export_task
from tests.integration.pricing.test_ledger import chain, triggers_off  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 1, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def head_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "price_ledger_heads": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def _recompute_tail_from(sequence: int, *, sign_with: bytes | None) -> None:
    """What an attacker with database access does after editing publication `sequence`'s rates: recompute
    its content hash and every later entry's hash (and HMAC, with whatever key they have)."""
    entries = list(LedgerEntry.objects.filter(sequence__gte=sequence).order_by("sequence"))
    previous = LedgerEntry.objects.get(sequence=sequence - 1).entry_sha256 if sequence > 1 else ledger.GENESIS
    for entry in entries:
        publication = RatePublication.objects.get(pk=entry.publication_id)
        rates = list(PublishedRate.objects.filter(publication=publication).order_by("interval_start"))
        content = publication_content_sha256(publication, rates)
        entry_sha = ledger.entry_hash(previous, content, entry.sequence)
        RatePublication.objects.filter(pk=publication.pk).update(content_sha256=content)
        LedgerEntry.objects.filter(pk=entry.pk).update(
            content_sha256=content,
            previous_sha256=previous,
            entry_sha256=entry_sha,
            entry_hmac=ledger.entry_hmac(sign_with, entry.sequence, entry_sha) if sign_with else "",
        )
        previous = entry_sha


def _edit_rate(sequence: int) -> None:
    publication = LedgerEntry.objects.get(sequence=sequence).publication
    rate = PublishedRate.objects.filter(publication=publication).order_by("interval_start").first()
    PublishedRate.objects.filter(pk=rate.pk).update(rate_per_kwh=rate.rate_per_kwh + 1)


def test_new_entries_are_signed_and_the_chain_verifies(chain):  # noqa: F811
    entry = chain[0]

    assert entry.entry_hmac == ledger.entry_hmac(ledger_key(), entry.sequence, entry.entry_sha256)
    assert ledger_verify().ok


def test_the_head_export_signs_the_head_outside_the_database(chain, head_dir):  # noqa: F811
    export = ledger_head_export(now=NOW)
    again = ledger_head_export(now=NOW)

    files = sorted(p.name for p in head_dir.iterdir())
    stored = json.loads((head_dir / files[0]).read_text())
    assert export.created
    assert not again.created
    assert files == ["price-ledger-head-000000000003.json"]
    assert stored["sequence"] == 3
    assert stored["entry_sha256"] == chain[2].entry_sha256
    assert ledger.SignedHead(**stored).signature_valid(ledger_key())
    assert ledger_verify().ok


def test_a_recomputed_tail_is_caught_at_the_first_recomputed_entry(chain):  # noqa: F811
    """RELIABILITY check 45 (a recomputed tail): edit entry 2's rates and recompute every hash from
    there; without the ledger key the HMACs no longer match."""
    with triggers_off():
        _edit_rate(2)
        _recompute_tail_from(2, sign_with=b"a guessed key")

    report = ledger_verify()

    assert not report.ok
    assert report.first_broken.sequence == 2
    assert report.first_broken.reason.startswith("HMAC mismatch")


def test_a_recomputed_tail_with_the_hmacs_stripped_is_caught(chain):  # noqa: F811
    with triggers_off():
        _edit_rate(3)
        _recompute_tail_from(3, sign_with=None)

    report = ledger_verify()

    assert report.first_broken.sequence == 3
    assert report.first_broken.reason.startswith("entry not signed")


def test_a_chain_recomputed_from_genesis_without_hmacs_is_caught_by_the_signed_head(chain):  # noqa: F811
    """RELIABILITY check 45: a chain rewritten from the start as if it predated signing still differs
    from the exported signed head."""
    ledger_head_export(now=NOW)
    with triggers_off():
        _edit_rate(2)
        _recompute_tail_from(1, sign_with=None)

    report = ledger_verify()

    assert report.first_broken.sequence == 3
    assert report.first_broken.reason.startswith("chain rewritten")


def test_a_truncated_end_is_caught_by_the_signed_head(chain):  # noqa: F811
    """RELIABILITY check 45 (e): delete the last entry with its publication and rates; the plain chain
    still verifies, the signed head does not."""
    ledger_head_export(now=NOW)
    with triggers_off():
        last = LedgerEntry.objects.get(sequence=3)
        publication_id = last.publication_id
        last.delete()
        PublishedRate.objects.filter(publication_id=publication_id).delete()
        RatePublication.objects.filter(pk=publication_id).delete()

    report = ledger_verify()

    assert ledger_verify(use_head=False).ok
    assert not report.ok
    assert report.first_broken.sequence == 3
    assert report.first_broken.reason.startswith("chain truncated")
    with pytest.raises(CommandError, match="chain truncated"):
        call_command("price_ledger_verify")


def test_a_forged_head_file_is_refused(chain, head_dir):  # noqa: F811
    ledger_head_export(now=NOW)
    name = next(head_dir.iterdir())
    data = json.loads(name.read_text())
    data["sequence"] = 2
    name.write_text(json.dumps(data))

    report = ledger_verify()

    assert report.first_broken.reason.startswith("signed head invalid")


def test_a_broken_ledger_is_not_signed(chain, head_dir):  # noqa: F811
    with triggers_off():
        _edit_rate(1)

    export = ledger_head_export(now=NOW)

    assert export.head is None
    assert not export.report.ok
    assert list(head_dir.iterdir()) == []


def test_another_key_does_not_verify(chain):  # noqa: F811
    with override_settings(PRICE_LEDGER_HMAC_KEY="another key"):
        report = ledger_verify()

    assert report.first_broken == ledger.Broken(1, report.first_broken.reason)
    assert report.first_broken.reason.startswith("HMAC mismatch")


def test_the_head_export_runs_on_a_schedule(chain, settings, head_dir):  # noqa: F811
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    result = price_ledger_head_export_task.delay().get()

    assert "pricing.tasks.dynamic.price_ledger_head_export_task" in tasks
    assert result["head"]["sequence"] == 3
    assert [p.name for p in head_dir.iterdir()] == ["price-ledger-head-000000000003.json"]
