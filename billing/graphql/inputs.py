"""GraphQL inputs of the billing app."""

from datetime import date, datetime
from decimal import Decimal

import strawberry

from billing.graphql.types import PaymentMethod
from billing.services import comparison


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
class TariffComparisonInput:
    tariff_codes: list[str]
    period_start: date
    period_end: date = strawberry.field(description="Exclusive: the period is [periodStart, periodEnd).")
    feeder_code: str | None = None
    tariff_class: str | None = strawberry.field(
        default=None, description="Only accounts whose current import tariff has this code."
    )
    account_numbers: list[str] | None = None
    price_factor: Decimal = Decimal("1")
    pv_share: float = 0.0
    export_tariff_code: str | None = None
    consumer_response: bool = strawberry.field(
        default=False,
        description="Bill each candidate on the consumption the balancing model's consumer response predicts "
        "under its rates.",
    )


def tariff_comparison_cohort(input: TariffComparisonInput) -> comparison.Cohort:
    return comparison.Cohort(
        feeder_code=input.feeder_code or None,
        tariff_code=input.tariff_class or None,
        account_numbers=tuple(input.account_numbers) if input.account_numbers is not None else None,
    )


def tariff_comparison_scenario(input: TariffComparisonInput) -> comparison.Scenario:
    return comparison.Scenario(
        name="base"
        if input.price_factor == 1 and not input.pv_share and not input.consumer_response
        else "scenario",
        price_factor=input.price_factor,
        pv_share=input.pv_share,
        export_tariff_code=input.export_tariff_code or None,
        consumer_response=input.consumer_response,
    )


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
