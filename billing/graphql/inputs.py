"""GraphQL inputs of the billing app."""

from datetime import date, datetime

import strawberry


@strawberry.input
class CustomerCreateInput:
    account_number: str
    name: str
    email: str | None = None


@strawberry.input
class AgreementCreateInput:
    account_number: str
    meter_point_identifier: str
    tariff_code: str
    export_tariff_code: str | None = None
    valid_from: datetime
    valid_to: datetime | None = None


@strawberry.input
class BillRunStartInput:
    period_start: date
    period_end: date
    idempotency_key: str
    account_numbers: list[str] | None = None


@strawberry.input
class InvoiceIssueInput:
    number: str = strawberry.field(
        description="The draft's provisional reference `DRAFT-<id>` (its `number` before issue)."
    )


@strawberry.input
class InvoiceVoidInput:
    number: str
    reason: str
