"""GraphQL queries of the billing app."""

import strawberry
import strawberry_django
from django.conf import settings
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from billing.graphql.filters import InvoiceFilter, InvoiceOrdering, OrderDirection
from billing.graphql.inputs import TariffComparisonInput, tariff_comparison_cohort, tariff_comparison_scenario
from billing.graphql.types import (
    BillRunType,
    ComparisonType,
    CustomerType,
    InvoiceStatus,
    InvoiceType,
    RunType,
    tariff_comparison_run_type,
    tariff_comparison_type,
)
from billing.models import BillRun, Invoice
from billing.selectors import comparison as comparison_selectors
from billing.selectors import customers as customer_selectors
from billing.selectors import invoices as invoice_selectors
from billing.services import comparison as comparison_services
from core.api.auth import Kind
from core.api.errors import not_found
from core.api.permissions import ScopeRequired, SignedInUserRequired, principal_of
from core.errors import DomainError


class CohortTooLarge(DomainError, code="cohort_too_large"): ...


def _customer_filter_user(info: Info):
    principal = principal_of(info)
    return principal.user if principal.kind == Kind.USER else None


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("billing:read", signed_in_users=True)])
    def customer(self, info: Info, account_number: str) -> CustomerType | None:
        customer = customer_selectors.customer_get(
            account_number=account_number, visible_to_user=_customer_filter_user(info)
        )
        if customer is None:
            raise not_found(f"No customer {account_number}.", field="accountNumber")
        return customer

    @strawberry_django.field(extensions=[SignedInUserRequired()])
    def me(self, info: Info) -> CustomerType | None:
        return customer_selectors.customer_for_user(user=principal_of(info).user)

    @strawberry_django.connection(
        DjangoListConnection[InvoiceType],
        extensions=[ScopeRequired("billing:read", signed_in_users=True)],
        max_results=settings.GRAPHQL_MAX_PAGE_SIZE,
    )
    def invoices(
        self,
        info: Info,
        account_number: str | None = None,
        status: InvoiceStatus | None = None,
        filter: InvoiceFilter | None = None,
        ordering: list[InvoiceOrdering] | None = None,
    ) -> list[InvoiceType]:
        """Invoices, newest period first unless `ordering` says otherwise; `filter` narrows them (and
        `accountNumber`/`status`, kept for existing clients)."""
        wanted = filter or InvoiceFilter()
        both = wanted.account_number is not None and account_number is not None
        if both and wanted.account_number != account_number:
            return invoice_selectors.invoice_list().none()  # type: ignore[return-value]
        return invoice_selectors.invoice_list(  # type: ignore[return-value]
            account_number=account_number if account_number is not None else wanted.account_number,
            status=status.value if status is not None else None,
            statuses=[s.value for s in wanted.status] if wanted.status else None,
            period_from=wanted.period.from_ if wanted.period else None,
            period_to=wanted.period.to if wanted.period else None,
            issued_from=wanted.issued.from_ if wanted.issued else None,
            issued_to=wanted.issued.to if wanted.issued else None,
            order_by=[(o.field.value, o.direction == OrderDirection.DESC) for o in ordering or []],
            visible_to_user=_customer_filter_user(info),
        )

    @strawberry_django.field(extensions=[ScopeRequired("billing:read", signed_in_users=True)])
    def invoice(self, info: Info, number: str) -> InvoiceType | None:
        invoice: Invoice | None = invoice_selectors.invoice_get(
            number=number, visible_to_user=_customer_filter_user(info)
        )
        if invoice is None:
            raise not_found(f"No invoice {number}.", field="number")
        return invoice  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("billing:read")])
    def bill_run(self, id: strawberry.ID) -> BillRunType | None:
        run: BillRun | None = (
            invoice_selectors.bill_run_get(bill_run_id=int(id)) if str(id).isdigit() else None
        )
        if run is None:
            raise not_found(f"No bill run {id}.", field="id")
        return run  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("billing:read")])
    def tariff_comparison(self, input: TariffComparisonInput) -> ComparisonType:
        cohort = tariff_comparison_cohort(input)
        ids = comparison_services.cohort_customer_ids(
            cohort=cohort, period_start=input.period_start, period_end=input.period_end
        )
        limit = comparison_services.SYNC_ACCOUNT_LIMIT
        if len(ids) > limit:
            raise CohortTooLarge(
                f"The cohort has {len(ids)} accounts; compare at most {limit} here and "
                "start a stored run (tariffComparisonRunStart) for more.",
                field="input",
            )
        return tariff_comparison_type(
            comparison_services.tariff_comparison_compute(
                tariff_codes=input.tariff_codes,
                period_start=input.period_start,
                period_end=input.period_end,
                scenario=tariff_comparison_scenario(input),
                customer_ids=ids,
            )
        )

    @strawberry_django.field(extensions=[ScopeRequired("billing:read")])
    def tariff_comparison_run(self, id: strawberry.ID) -> RunType | None:
        run = comparison_selectors.tariff_comparison_run_get(run_id=str(id))
        if run is None:
            raise not_found(f"No tariff comparison run {id}.", field="id")
        return tariff_comparison_run_type(run)
