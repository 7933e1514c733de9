"""GraphQL mutations of the billing app."""

import strawberry
import strawberry_django
from django.utils import timezone

from billing.graphql.inputs import (
    AgreementCreateInput,
    BillRunStartInput,
    CustomerCreateInput,
    InvoiceAdjustInput,
    InvoiceIssueInput,
    InvoiceVoidInput,
    PaymentRecordInput,
    TariffComparisonInput,
    tariff_comparison_cohort,
    tariff_comparison_scenario,
)
from billing.graphql.types import (
    AgreementType,
    BillRunType,
    CreditNoteType,
    CustomerType,
    InvoiceAdjustmentType,
    InvoiceType,
    PaymentType,
    RunType,
    tariff_comparison_run_type,
)
from billing.services import agreements, bill_runs, comparison, customers, invoices, payments
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
            payment_terms_days=input.payment_terms_days,
            minimum_charge_per_month=input.minimum_charge_per_month,
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

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def invoice_adjust(self, input: InvoiceAdjustInput) -> InvoiceAdjustmentType:
        return invoices.invoice_adjust(  # type: ignore[return-value]
            number=input.number,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
            amount=input.amount,
            line_amounts=[(line.index, line.amount) for line in input.lines] if input.lines else None,
            now=timezone.now(),
        )

    @strawberry_django.mutation(handle_django_errors=True, extensions=[ScopeRequired("billing:write")])
    def payment_record(self, info: strawberry.Info, input: PaymentRecordInput) -> PaymentType:
        return payments.payment_record(  # type: ignore[return-value]
            account_number=input.account_number,
            amount=input.amount,
            currency=input.currency,
            received_date=input.received_date,
            method=input.method.value,
            external_reference=input.external_reference,
            now=timezone.now(),
            recorded_by=principal_of(info).client_key,
        )
