"""GraphQL inputs of the billing app."""

from datetime import date, datetime
from decimal import Decimal

import strawberry

from billing.graphql.types import PaymentMethod


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
    payment_terms_days: int | None = strawberry.field(
        default=None, description="Days from issue to the due date; null: the supplier's default terms."
    )
    minimum_charge_per_month: Decimal | None = strawberry.field(
        default=None, description="The least the agreement bills per month before tax, prorated by day."
    )


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


@strawberry.input
class PaymentRecordInput:
    account_number: str
    amount: Decimal = strawberry.field(description="More than 0, in the account's currency.")
    currency: str
    received_date: date
    method: PaymentMethod
    external_reference: str = strawberry.field(
        description="The payment's id in the billing system: recording it again returns the same payment."
    )


@strawberry.input
class InvoiceAdjustLineInput:
    index: int = strawberry.field(description="The line's position in `Invoice.lines`, from 0.")
    amount: Decimal = strawberry.field(description="The net amount (before tax) to credit on the line.")


@strawberry.input
class InvoiceAdjustInput:
    number: str
    reason: str
    idempotency_key: str
    amount: Decimal | None = strawberry.field(
        default=None, description="A total to credit, tax included. Give this or `lines`."
    )
    lines: list[InvoiceAdjustLineInput] | None = None
