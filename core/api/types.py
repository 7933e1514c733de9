"""GraphQL types shared by the apps' operations."""

import strawberry
from strawberry.utils.str_converters import to_camel_case

from core import results


@strawberry.type
class RejectedReading:
    """One rejected item of an ingest (a reading or a price): its index in the input and why.

    For interval blocks `index` counts values across all blocks; `block` and `value` locate it.
    """

    index: int
    code: str
    field: str | None
    message: str
    block: int | None = None
    value: int | None = None


@strawberry.type
class IngestResult:
    accepted: int
    duplicates: int
    revised: int
    rejected_count: int
    rejected: list[RejectedReading]

    @classmethod
    def from_result(cls, result: results.IngestResult) -> "IngestResult":
        return cls(
            accepted=result.accepted,
            duplicates=result.duplicates,
            revised=result.revised,
            rejected_count=result.rejected_count,
            rejected=[
                RejectedReading(
                    index=r["index"],
                    code=r["code"],
                    field=to_camel_case(r["field"]) if r["field"] else None,
                    message=r["message"],
                    block=r.get("block"),
                    value=r.get("value"),
                )
                for r in result.rejected
            ],
        )
