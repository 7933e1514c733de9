"""GraphQL filters and orderings of the billing app: `invoices(filter: …, ordering: […])`."""

import enum
from datetime import date, datetime

import strawberry

from billing.graphql.types import InvoiceStatus


@strawberry.input(description="Half-open date range [from, to); either bound may be left open.")
class DateRangeInput:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None


@strawberry.input(description="Half-open instant range [from, to); either bound may be left open.")
class DateTimeRangeInput:
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None


@strawberry.input(description="Invoices matching every given condition.")
class InvoiceFilter:
    account_number: str | None = None
    status: list[InvoiceStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    period: DateRangeInput | None = strawberry.field(
        default=None,
        description="Invoices whose billing period [periodStart, periodEnd) overlaps this range.",
    )
    issued: DateTimeRangeInput | None = strawberry.field(default=None, description="Issued in this range.")


@strawberry.enum
class InvoiceOrderField(enum.Enum):
    PERIOD_START = "period_start"
    PERIOD_END = "period_end"
    ISSUED_AT = "issued_at"
    TOTAL_AMOUNT = "total_amount"
    NUMBER = "number"
    ACCOUNT_NUMBER = "account_number"


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="One ordering key; later keys break ties, and the invoice id breaks the rest.")
class InvoiceOrdering:
    field: InvoiceOrderField
    direction: OrderDirection = OrderDirection.ASC
