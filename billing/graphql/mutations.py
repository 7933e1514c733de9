"""GraphQL mutations of the billing app."""

import strawberry
import strawberry_django
from django.utils import timezone

from billing.graphql.inputs import (
    AgreementCreateInput,
    BillRunStartInput,
    CustomerCreateInput,
    InvoiceIssueInput,
    InvoiceVoidInput,
    TariffComparisonInput,
    tariff_comparison_cohort,
    tariff_comparison_scenario,
)
from billing.graphql.types import (
    AgreementType,
    BillRunType,
    CreditNoteType,
    CustomerType,
    InvoiceType,
    RunType,
    tariff_comparison_run_type,
)
from billing.services import agreements, bill_runs, comparison, customers, invoices
from core.api.permissions import ScopeRequired, principal_of


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def customer_create(self, input: CustomerCreateInput) -> CustomerType:
        return customers.customer_create(
            account_number=input.account_number, name=input.name, email=input.email or ""
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def agreement_create(self, input: AgreementCreateInput) -> AgreementType:
        return agreements.agreement_create(  # type: ignore[return-value]
            account_number=input.account_number,
            meter_point_identifier=input.meter_point_identifier,
            tariff_code=input.tariff_code,
            export_tariff_code=input.export_tariff_code or None,
            valid_from=input.valid_from,
            valid_to=input.valid_to,
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def bill_run_start(self, info: strawberry.Info, input: BillRunStartInput) -> BillRunType:
        return bill_runs.bill_run_start(  # type: ignore[return-value]
            period_start=input.period_start,
            period_end=input.period_end,
            idempotency_key=input.idempotency_key,
            account_numbers=input.account_numbers or None,
            now=timezone.now(),
            client=principal_of(info).client_key,
            enqueue=True,
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def invoice_issue(self, input: InvoiceIssueInput) -> InvoiceType:
        return invoices.invoice_issue(number=input.number, now=timezone.now())  # type: ignore[return-value]

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def invoice_void(self, input: InvoiceVoidInput) -> CreditNoteType:
        return invoices.invoice_void(  # type: ignore[return-value]
            number=input.number, reason=input.reason, now=timezone.now()
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def tariff_comparison_run_start(self, input: TariffComparisonInput) -> RunType:
        return tariff_comparison_run_type(
            comparison.tariff_comparison_run_start(
                tariff_codes=input.tariff_codes,
                period_start=input.period_start,
                period_end=input.period_end,
                cohort=tariff_comparison_cohort(input),
                scenarios=[tariff_comparison_scenario(input)],
                now=timezone.now(),
            )
        )
