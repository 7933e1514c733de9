"""Reads of the pricing app: ledger.

`ledger_verify` walks the whole chain in sequence order, in chunks (one query for the entries with their
publications, one for their rates), recomputing each publication's canonical content from the stored rows,
checking each entry's HMAC, and finally comparing the chain with the latest signed head exported outside
the database (`ledger_head_latest`).
"""

import json
from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.core.files.storage import storages
from django.db.models import Prefetch, QuerySet

from pricing import ledger
from pricing.models import LedgerEntry, PublishedRate, RatePublication

VERIFY_CHUNK = 200
HEAD_STORAGE = "price_ledger_heads"
HEAD_PREFIX = "price-ledger-head-"


def ledger_key() -> bytes:
    """The key of entry HMACs and signed heads (settings.PRICE_LEDGER_HMAC_KEY)."""
    return settings.PRICE_LEDGER_HMAC_KEY.encode()


def head_file_name(sequence: int) -> str:
    return f"{HEAD_PREFIX}{sequence:012d}.json"


def ledger_head_latest() -> ledger.SignedHead | None:
    """The latest exported signed head (highest sequence), or None before the first export. A file that
    cannot be read as a head is returned unsigned, so verification reports it rather than skipping it."""
    storage = storages[HEAD_STORAGE]
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return None
    names = sorted(name for name in files if name.startswith(HEAD_PREFIX) and name.endswith(".json"))
    if not names:
        return None
    with storage.open(names[-1]) as handle:
        raw = handle.read()
    try:
        data = json.loads(raw)
        return ledger.SignedHead(
            sequence=int(data["sequence"]),
            entry_sha256=str(data["entry_sha256"]),
            signed_at=str(data["signed_at"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError):
        return ledger.SignedHead(sequence=0, entry_sha256="", signed_at="")


def publication_content_sha256(publication: RatePublication, rates: list[PublishedRate]) -> str:
    """The SHA-256 of a publication's canonical content, recomputed from its stored rows."""
    return ledger.sha256_hex(
        ledger.canonical_content(
            tariff_code=publication.tariff.code,
            version_id=publication.tariff_version_id,
            version_sha256=publication.tariff_version.document_sha256,
            day=publication.day,
            revision=publication.revision,
            rates=[
                ledger.RateLine(r.interval_start, r.interval_end, r.rate_per_kwh, r.breakdown) for r in rates
            ],
        )
    )


def _links(chunk: int) -> Iterator[ledger.Link]:
    after = -1
    rates = Prefetch("publication__rates", queryset=PublishedRate.objects.order_by("interval_start"))
    while True:
        entries = list(
            LedgerEntry.objects.filter(sequence__gt=after)
            .select_related("publication__tariff", "publication__tariff_version")
            .prefetch_related(rates)
            .order_by("sequence")[:chunk]
        )
        for entry in entries:
            publication = entry.publication
            yield ledger.Link(
                sequence=entry.sequence,
                previous_sha256=entry.previous_sha256,
                content_sha256=entry.content_sha256,
                entry_sha256=entry.entry_sha256,
                publication_sha256=publication.content_sha256,
                recomputed_sha256=publication_content_sha256(publication, list(publication.rates.all())),
                entry_hmac=entry.entry_hmac,
            )
        if len(entries) < chunk:
            return
        after = entries[-1].sequence


def ledger_verify(*, chunk: int = VERIFY_CHUNK, use_head: bool = True) -> ledger.VerifyReport:
    """Check every ledger entry (hashes and HMACs) and report the first broken one; then compare the chain
    with the latest signed head (a truncated end or a recomputed tail); also flag publications left
    without an entry (an entry deleted from the end of the chain leaves its publication behind)."""
    head = ledger_head_latest() if use_head else None
    report = ledger.chain_verify(_links(chunk), key=ledger_key(), head=head)
    if not report.ok:
        return report
    orphan = (
        RatePublication.objects.filter(ledger_entry__isnull=True)
        .select_related("tariff")
        .order_by("pk")
        .first()
    )
    if orphan is not None:
        return ledger.VerifyReport(
            entries_checked=report.entries_checked,
            ok=False,
            first_broken=ledger.Broken(
                report.entries_checked + 1,
                f"publication {orphan.tariff.code}/{orphan.day} r{orphan.revision} has no ledger entry "
                "(entry deleted?)",
            ),
        )
    return report


def publication_latest(*, tariff_code: str, day: date) -> RatePublication | None:
    """The latest revision published for a tariff's local day, or None."""
    return (
        RatePublication.objects.filter(tariff__code=tariff_code, day=day)
        .select_related("tariff", "ledger_entry")
        .order_by("-revision")
        .first()
    )


def published_rate_list(*, publication: RatePublication) -> QuerySet[PublishedRate]:
    return PublishedRate.objects.filter(publication=publication).order_by("interval_start")


def ledger_entry_list() -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.select_related("publication__tariff").order_by("sequence")
