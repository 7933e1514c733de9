"""Services of the price ledger: export the signed chain head outside the database."""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.files.base import ContentFile
from django.core.files.storage import storages

from pricing import ledger
from pricing.models import LedgerEntry
from pricing.selectors.ledger import HEAD_STORAGE, head_file_name, ledger_key, ledger_verify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadExport:
    head: ledger.SignedHead | None
    created: bool
    report: ledger.VerifyReport

    def as_dict(self) -> dict:
        return {
            "head": self.head.as_dict() if self.head else None,
            "created": self.created,
            "verify": self.report.as_dict(),
        }


def ledger_head_export(*, now: datetime) -> HeadExport:
    """Verify the whole ledger, then sign its head and store it in the `price_ledger_heads` storage.

    A broken ledger is not signed (the report says why). A head already exported for the same sequence is
    left as it is (idempotent; the storage is append-only). An empty ledger has no head.
    """
    report = ledger_verify()
    if not report.ok:
        log.error("price ledger head not exported: the ledger is broken (%s)", report.first_broken)
        return HeadExport(head=None, created=False, report=report)
    entry = LedgerEntry.objects.order_by("-sequence").first()
    if entry is None:
        return HeadExport(head=None, created=False, report=report)
    storage = storages[HEAD_STORAGE]
    name = head_file_name(entry.sequence)
    if storage.exists(name):
        return HeadExport(head=None, created=False, report=report)
    signed_at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = ledger.SignedHead(entry.sequence, entry.entry_sha256, signed_at).signed(ledger_key())
    storage.save(name, ContentFile(json.dumps(head.as_dict(), sort_keys=True).encode()))
    return HeadExport(head=head, created=True, report=report)
