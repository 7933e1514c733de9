"""What an ingest did, for readings and market prices alike."""

from dataclasses import dataclass, field
from typing import Any

MAX_REJECT_DETAILS = 1000


@dataclass
class IngestResult:
    """accepted = written (new or revised); revised ⊆ accepted; duplicates changed nothing; rejected wrote
    nothing, each {index, code, field, message} (the first MAX_REJECT_DETAILS), counted per code."""

    accepted: int = 0
    revised: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_by_code: dict[str, int] = field(default_factory=dict)

    def reject(self, index: int, code: str, field_name: str, message: str) -> None:
        self.rejected_count += 1
        self.rejected_by_code[code] = self.rejected_by_code.get(code, 0) + 1
        if len(self.rejected) < MAX_REJECT_DETAILS:
            self.rejected.append({"index": index, "code": code, "field": field_name, "message": message})

    def add(self, other: "IngestResult", index_offset: int = 0) -> None:
        """Fold in the result of a later batch whose first item was at `index_offset`."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.revised += other.revised
        for code, count in other.rejected_by_code.items():
            self.rejected_by_code[code] = self.rejected_by_code.get(code, 0) + count
        room = MAX_REJECT_DETAILS - len(self.rejected)
        self.rejected.extend({**r, "index": r["index"] + index_offset} for r in other.rejected[:room])
        self.rejected_count += other.rejected_count

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "revised": self.revised,
            "duplicates": self.duplicates,
            "rejected_count": self.rejected_count,
            "rejected": self.rejected,
            "rejected_by_code": self.rejected_by_code,
        }
