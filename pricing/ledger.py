"""The tamper-evident ledger of rate publications: canonical content, hashing and chain verification.

Each publication's canonical content is a JSON text with sorted keys and no whitespace; its SHA-256 is the
publication's `content_sha256`. Ledger entries chain: entry_sha256 = SHA-256(previous_sha256 ||
content_sha256 || str(sequence)), the first entry's previous being 64 zeros. Changing a published rate, a
publication, or removing, reordering or forging an entry breaks the chain at that entry. Pure Python: no
Django (docs/dynamic-pricing.md).
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.periods import is_aware

GENESIS = "0" * 64
_RATE_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class RateLine:
    """One published interval as it enters the canonical content."""

    interval_start: datetime
    interval_end: datetime
    rate_per_kwh: Decimal
    breakdown: list[dict[str, str]]


def _iso(moment: datetime) -> str:
    if not is_aware(moment):
        raise ValueError(f"{moment!r} is naive; canonical content needs aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rate(value: Decimal) -> str:
    quantized = Decimal(value).quantize(_RATE_QUANTUM, rounding=ROUND_HALF_UP)
    return str(quantized.copy_abs() if quantized.is_zero() else quantized)


def canonical_content(
    *,
    tariff_code: str,
    version_id: int,
    version_sha256: str,
    day: date,
    revision: int,
    rates: Iterable[RateLine],
) -> bytes:
    """The canonical bytes of a publication: sorted keys, no whitespace, intervals in start order."""
    intervals = [
        {
            "interval_start": _iso(line.interval_start),
            "interval_end": _iso(line.interval_end),
            "rate_per_kwh": _rate(line.rate_per_kwh),
            "breakdown": line.breakdown,
        }
        for line in sorted(rates, key=lambda line: line.interval_start)
    ]
    content = {
        "tariff_code": tariff_code,
        "tariff_version_id": version_id,
        "tariff_version_sha256": version_sha256,
        "day": day.isoformat(),
        "revision": revision,
        "intervals": intervals,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_hash(previous_sha256: str, content_sha256: str, sequence: int) -> str:
    """SHA-256(previous_sha256 || content_sha256 || str(sequence)), hex."""
    return sha256_hex(f"{previous_sha256}{content_sha256}{sequence}".encode())


@dataclass(frozen=True)
class Link:
    """One ledger entry as stored, with the content hash recomputed from its publication's stored rows
    (`recomputed_sha256`) and the hash the publication row carries (`publication_sha256`)."""

    sequence: int
    previous_sha256: str
    content_sha256: str
    entry_sha256: str
    publication_sha256: str
    recomputed_sha256: str


@dataclass(frozen=True)
class Broken:
    sequence: int
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    entries_checked: int
    ok: bool
    first_broken: Broken | None = None

    def as_dict(self) -> dict[str, Any]:
        broken = None
        if self.first_broken is not None:
            broken = {"sequence": self.first_broken.sequence, "reason": self.first_broken.reason}
        return {"entries_checked": self.entries_checked, "ok": self.ok, "first_broken": broken}


def link_problem(link: Link, *, expected_sequence: int, expected_previous: str) -> Broken | None:
    """Why `link` does not continue a chain whose next sequence and head hash are given, or None."""
    if link.sequence != expected_sequence:
        if link.sequence > expected_sequence:
            missing = (
                f"entry {expected_sequence} is missing"
                if link.sequence == expected_sequence + 1
                else f"entries {expected_sequence}–{link.sequence - 1} are missing"
            )
            return Broken(expected_sequence, f"sequence gap: {missing} (next present is {link.sequence})")
        return Broken(link.sequence, f"sequence out of order: expected {expected_sequence}")
    if link.previous_sha256 != expected_previous:
        return Broken(
            link.sequence, "previous hash mismatch: the entry does not follow the one before (reordered?)"
        )
    if link.entry_sha256 != entry_hash(link.previous_sha256, link.content_sha256, link.sequence):
        return Broken(link.sequence, "entry hash mismatch: the entry was forged or altered")
    if link.publication_sha256 != link.content_sha256:
        return Broken(link.sequence, "content hash mismatch: the publication's hash differs from the entry's")
    if link.recomputed_sha256 != link.content_sha256:
        return Broken(
            link.sequence, "content mismatch: the publication or its published rates were changed or deleted"
        )
    return None


def chain_verify(links: Iterable[Link]) -> VerifyReport:
    """Walk `links` in sequence order from 1 and report the first broken entry."""
    expected_sequence, expected_previous, checked = 1, GENESIS, 0
    for link in links:
        checked += 1
        broken = link_problem(link, expected_sequence=expected_sequence, expected_previous=expected_previous)
        if broken is not None:
            return VerifyReport(entries_checked=checked, ok=False, first_broken=broken)
        expected_sequence, expected_previous = link.sequence + 1, link.entry_sha256
    return VerifyReport(entries_checked=checked, ok=True)
