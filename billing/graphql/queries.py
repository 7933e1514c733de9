"""GraphQL queries of the billing app."""

import strawberry
import strawberry_django
from django.conf import settings
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

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
from core.api.permissions import ScopeRequired, SignedInUserRequired, principal_of
from core.errors import DomainError


class CohortTooLarge(DomainError):
    code = "cohort_too_large"


def _customer_filter_user(info: Info):
    principal = principal_of(info)
    return principal.user if principal.kind == Kind.USER else None


@strawberry.type
class Query:
    @strawberry_django.field(extensions=[ScopeRequired("billing:read", signed_in_users=True)])
    def customer(self, info: Info, account_number: str) -> CustomerType | None:
        return customer_selectors.customer_get(
            account_number=account_number, visible_to_user=_customer_filter_user(info)
        )

    @strawberry_django.field(extensions=[SignedInUserRequired()])
    def me(self, info: Info) -> CustomerType | None:
        return customer_selectors.customer_for_user(user=principal_of(info).user)

    @strawberry_django.connection(
        DjangoListConnection[InvoiceType],
        extensions=[ScopeRequired("billing:read", signed_in_users=True)],
        max_results=settings.GRAPHQL_MAX_PAGE_SIZE,
    )
    def invoices(
        self, info: Info, account_number: str | None = None, status: InvoiceStatus | None = None
    ) -> list[InvoiceType]:
        return invoice_selectors.invoice_list(  # type: ignore[return-value]
            account_number=account_number,
            status=status.value if status is not None else None,
            visible_to_user=_customer_filter_user(info),
        )

    @strawberry_django.field(extensions=[ScopeRequired("billing:read", signed_in_users=True)])
    def invoice(self, info: Info, number: str) -> InvoiceType | None:
        invoice: Invoice | None = invoice_selectors.invoice_get(
            number=number, visible_to_user=_customer_filter_user(info)
        )
        return invoice  # type: ignore[return-value]

    @strawberry_django.field(extensions=[ScopeRequired("billing:read")])
    def bill_run(self, id: strawberry.ID) -> BillRunType | None:
        try:
            bill_run_id = int(id)
        except ValueError:
            return None
        run: BillRun | None = invoice_selectors.bill_run_get(bill_run_id=bill_run_id)
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
        return tariff_comparison_run_type(run) if run else None
