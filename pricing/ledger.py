"""The tamper-evident ledger of rate publications: canonical content, hashing and chain verification.

Each publication's canonical content is a JSON text with sorted keys and no whitespace; its SHA-256 is the
publication's `content_sha256`. Ledger entries chain: entry_sha256 = SHA-256(previous_sha256 ||
content_sha256 || str(sequence)), the first entry's previous being 64 zeros. Changing a published rate, a
publication, or removing, reordering or forging an entry breaks the chain at that entry.

Anyone with write access to the database could recompute the hashes of a tail after an edit, or cut the
end off. Two things stop that, both keyed with a secret held outside the database:
- each entry carries `entry_hmac` = HMAC-SHA256(key, "<sequence>|<entry_sha256>"), so a recomputed entry
  no longer matches its HMAC;
- the chain head (sequence, entry hash) is signed and exported periodically outside the database
  (`SignedHead`); verification requires the chain to reach that head with the same hash.
Pure Python: no Django (docs/dynamic-pricing.md).
"""

import hashlib
import hmac
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


def entry_hmac(key: bytes, sequence: int, entry_sha256: str) -> str:
    """HMAC-SHA256(key, "<sequence>|<entry_sha256>"), hex: what an entry is signed with."""
    return hmac.new(key, f"{sequence}|{entry_sha256}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedHead:
    """The chain head at a moment, signed with the ledger key: exported outside the database."""

    sequence: int
    entry_sha256: str
    signed_at: str  # ISO 8601, UTC
    signature: str = ""

    def payload(self) -> bytes:
        return f"price-ledger-head|{self.sequence}|{self.entry_sha256}|{self.signed_at}".encode()

    def signed(self, key: bytes) -> "SignedHead":
        signature = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return SignedHead(self.sequence, self.entry_sha256, self.signed_at, signature)

    def signature_valid(self, key: bytes) -> bool:
        expected = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.signature)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "entry_sha256": self.entry_sha256,
            "signed_at": self.signed_at,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class Link:
    """One ledger entry as stored, with the content hash recomputed from its publication's stored rows
    (`recomputed_sha256`) and the hash the publication row carries (`publication_sha256`). `entry_hmac`
    is empty on entries written before entries were signed."""

    sequence: int
    previous_sha256: str
    content_sha256: str
    entry_sha256: str
    publication_sha256: str
    recomputed_sha256: str
    entry_hmac: str = ""


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


def hmac_problem(link: Link, key: bytes, *, signed_before: bool) -> Broken | None:
    """Why `link`'s HMAC does not hold, or None. Unsigned entries are accepted only before the first
    signed one (entries written before signing began)."""
    if not link.entry_hmac:
        if signed_before:
            return Broken(link.sequence, "entry not signed: an entry after a signed one has no HMAC")
        return None
    if not hmac.compare_digest(link.entry_hmac, entry_hmac(key, link.sequence, link.entry_sha256)):
        return Broken(
            link.sequence, "HMAC mismatch: the entry was recomputed or forged without the ledger key"
        )
    return None


def head_problem(
    head: SignedHead, key: bytes, *, last_sequence: int, hash_at_head: str | None
) -> Broken | None:
    """Why a verified chain ending at `last_sequence` (whose entry at the head's sequence has
    `hash_at_head`) does not match the exported signed head, or None."""
    if not head.signature_valid(key):
        return Broken(head.sequence, "signed head invalid: its signature does not match the ledger key")
    if last_sequence < head.sequence:
        return Broken(
            last_sequence + 1,
            f"chain truncated: it ends at entry {last_sequence} but the head signed at {head.signed_at} "
            f"is entry {head.sequence}",
        )
    if hash_at_head != head.entry_sha256:
        return Broken(
            head.sequence,
            f"chain rewritten: entry {head.sequence} differs from the head signed at {head.signed_at}",
        )
    return None


def chain_verify(
    links: Iterable[Link], *, key: bytes | None = None, head: SignedHead | None = None
) -> VerifyReport:
    """Walk `links` in sequence order from 1 and report the first broken entry. With `key`, each entry's
    HMAC is checked; with `head` too, the chain must reach the signed head with the same hash."""
    expected_sequence, expected_previous, checked, signed_before = 1, GENESIS, 0, False
    hash_at_head = None
    for link in links:
        checked += 1
        broken = link_problem(link, expected_sequence=expected_sequence, expected_previous=expected_previous)
        if broken is None and key is not None:
            broken = hmac_problem(link, key, signed_before=signed_before)
        if broken is not None:
            return VerifyReport(entries_checked=checked, ok=False, first_broken=broken)
        signed_before = signed_before or bool(link.entry_hmac)
        if head is not None and link.sequence == head.sequence:
            hash_at_head = link.entry_sha256
        expected_sequence, expected_previous = link.sequence + 1, link.entry_sha256
    if head is not None and key is not None:
        broken = head_problem(head, key, last_sequence=expected_sequence - 1, hash_at_head=hash_at_head)
        if broken is not None:
            return VerifyReport(entries_checked=checked, ok=False, first_broken=broken)
    return VerifyReport(entries_checked=checked, ok=True)
